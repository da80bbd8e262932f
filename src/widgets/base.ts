/**
 * The base of clustercraft's widget models: the module name and version are
 * set here once; each model adds only its names and serializers.
 */
import { DOMWidgetModel } from '@jupyter-widgets/base';

import { MODULE_NAME, MODULE_VERSION } from './version';

export class ClusterCraftModel extends DOMWidgetModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION
    };
  }
}
