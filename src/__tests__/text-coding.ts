// jsdom has no TextDecoder/TextEncoder; apache-arrow needs them when its module loads.
import { TextDecoder, TextEncoder } from 'util';

Object.assign(globalThis, { TextDecoder, TextEncoder });
