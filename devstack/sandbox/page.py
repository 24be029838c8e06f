"""The HTML page at /_sandbox/: what each vendor received, newest first. No JavaScript framework,
no external assets: it must work offline and be readable with `curl` too."""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import urlencode

from devstack.sandbox.store import RecordedRequest

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;vertical-align:top;text-align:left}
tr{border-top:1px solid #eee}pre{margin:0;white-space:pre-wrap;word-break:break-all;font-size:12px}
.s2{color:#176f2c}.s4{color:#a35200}.s5{color:#b00020}.muted{color:#777}code{font-size:12px}
nav a{margin-right:.8rem}button{margin-left:.5rem}
"""

SCRIPT = """
async function sandbox(method, path){await fetch(path,{method});location.reload();}
"""


def _pretty(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _row(record: RecordedRequest) -> str:
    query = f"?{urlencode(record.query, doseq=True)}" if record.query else ""
    body = _pretty(record.body if record.body is not None else record.body_text)
    note = f'<div class="muted">{escape(record.extra["note"])}</div>' if record.extra.get("note") else ""
    return (
        "<tr>"
        f'<td class="muted">#{record.id}<br>{escape(record.at)}<br>{record.duration_ms:.0f} ms</td>'
        f"<td><b>{escape(record.method)}</b> <code>{escape(record.path + query)}</code>"
        f'<br><span class="muted">auth: {escape(record.auth or "none")}</span>{note}</td>'
        f'<td class="s{record.status // 100}"><b>{record.status}</b></td>'
        f"<td><pre>{escape(body)}</pre></td>"
        f"<td><details><summary>response</summary><pre>{escape(_pretty(record.response))}</pre></details></td>"
        "</tr>"
    )


def render_page(
    records: Iterable[RecordedRequest],
    *,
    vendors: list[str],
    base_paths: dict[str, str],
    limit: int,
    selected: str | None,
    refresh: int | None,
    faults: list[dict[str, Any]],
    latency: dict[str, float],
) -> str:
    by_vendor: dict[str, list[RecordedRequest]] = {vendor: [] for vendor in vendors}
    for record in records:
        by_vendor.setdefault(record.vendor, []).append(record)
    shown = [selected] if selected else vendors
    refresh_tag = f'<meta http-equiv="refresh" content="{max(refresh, 1)}">' if refresh else ""
    links = " ".join(
        [
            '<a href="?">all</a>',
            *(f'<a href="?{urlencode({"vendor": vendor})}">{escape(vendor)}</a>' for vendor in vendors),
            '<a href="?refresh=2">auto-refresh</a>',
            "<button onclick=\"sandbox('DELETE','/_sandbox/requests')\">clear requests</button>",
            "<button onclick=\"sandbox('POST','/_sandbox/reset')\">reset everything</button>",
        ]
    )
    roots = ", ".join(f"<code>{escape(name)}={escape(path)}</code>" for name, path in base_paths.items())
    settings = []
    if faults:
        settings.append(f"pending faults: <code>{escape(json.dumps(faults))}</code>")
    if latency:
        settings.append(f"latency (ms): <code>{escape(json.dumps(latency))}</code>")
    sections = []
    for vendor in shown:
        items = by_vendor.get(vendor, [])
        newest = list(reversed(items))[:limit]
        rows = "".join(_row(record) for record in newest) or '<tr><td class="muted">nothing received yet</td></tr>'
        sections.append(
            f'<h2 id="{escape(vendor)}">{escape(vendor)} <span class="muted">({len(items)} recorded,'
            f" newest first)</span></h2><table>{rows}</table>"
        )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Vendor sandbox</title>"
        f"{refresh_tag}<style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
        f"<h1>Webhook Bridge vendor sandbox</h1><nav>{links}</nav>"
        f'<p class="muted">API roots: {roots}. JSON: <a href="/_sandbox/requests">/_sandbox/requests</a>,'
        f' <a href="/_sandbox/state">/_sandbox/state</a>.</p>'
        f"<p>{'<br>'.join(settings)}</p>"
        f"{''.join(sections)}</body></html>"
    )
