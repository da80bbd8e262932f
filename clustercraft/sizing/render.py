"""Static HTML of the kernel side's views (reports, worker tables, partition tables), for
frontends without widgets, nbconvert and GitHub: one Jinja environment, autoescaped, with
clustercraft's filters, rendering ``templates/*.html.j2`` (as ``distributed/widgets`` does).

Views pass plain values; the templates escape them. Markup made elsewhere (pandas' tables)
is passed as :class:`markupsafe.Markup`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from dask.utils import format_bytes, format_time
from markupsafe import Markup

__all__ = ["Markup", "environment", "render", "signed_bytes"]


def signed_bytes(n: int) -> str:
    return "-" + format_bytes(-n) if n < 0 else format_bytes(n)


def seconds(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f} s"


FILTERS = {
    "format_bytes": format_bytes,
    "format_time": format_time,
    "signed_bytes": signed_bytes,
    "seconds": seconds,
}


@cache
def environment() -> jinja2.Environment:
    """The one environment: every template is HTML (or inline SVG), so all are autoescaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("clustercraft.sizing", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,  # a view that forgets a value fails, not blanks
    )
    env.filters.update(FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    """``templates/<template>`` rendered with ``context``."""
    return environment().get_template(template).render(**context)
