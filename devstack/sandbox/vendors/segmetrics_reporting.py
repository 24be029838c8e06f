"""SegMetrics reporting API (api.segmetrics.io): saved reports, customer journeys, one contact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from devstack.sandbox.vendors import segmetrics_reports as reports
from devstack.sandbox.vendors.segmetrics import SegMetricsService
from devstack.sandbox.wire import json_response, read_body


class SegMetricsReporting(SegMetricsService):
    name = "segmetrics-reporting"
    prefix = "/segmetrics-reporting"
    env_var = "SEGMETRICS_REPORTING_BASE_URL"

    routes = (
        ("GET", "/<account>/report/<report_type>", "get_report"),
        ("GET", "/<account>/report/<report_type>/contacts", "get_report_contacts"),
        ("GET", "/<account>/report/<report_type>/<report_id>", "get_report"),
        ("GET", "/<account>/report/<report_type>/<report_id>/contacts", "get_report_contacts"),
        ("GET", "/<account>/contact/<ident>", "get_contact"),
    )

    def reset(self) -> None:
        pass  # the data belongs to the import API, which resets it

    def snapshot(self) -> dict[str, Any]:
        return {}

    def guard(self, request: Request, args: Mapping[str, Any]) -> Response | None:
        if args.get("account") != self.credentials.segmetrics_account_id:
            return self.error(404, "unknown account")
        report_type = args.get("report_type")
        if report_type is not None and report_type not in reports.REPORT_TYPES:
            return self.error(400, f"'report_type' must be one of {', '.join(reports.REPORT_TYPES)}")
        return None

    @staticmethod
    def _params(request: Request) -> dict[str, str]:
        """Query parameters, and those of a body: the document's examples send them with `curl -d`."""
        params: dict[str, str] = {}
        body = read_body(request)
        if body.kind == "json" and isinstance(body.value, dict):
            params.update({key: str(value) for key, value in body.value.items() if value is not None})
        elif body.text:
            params.update(parse_qsl(body.text, keep_blank_values=False))
        params.update(request.args.to_dict())
        return params

    def route(self, request: Request, path: str) -> Response:
        try:
            return super().route(request, path)
        except reports.ReportError as exc:
            return self.error(400, str(exc))

    def get_report(self, request: Request, account: str, report_type: str, report_id: str | None = None) -> Response:
        period = reports.period_from(self._params(request))
        return json_response(reports.report(self.data, report_type, report_id, period))

    def get_report_contacts(
        self, request: Request, account: str, report_type: str, report_id: str | None = None
    ) -> Response:
        params = self._params(request)
        period, extend = reports.period_from(params), reports.extensions_from(params)
        contacts = reports.report_contacts(self.data, report_type, period)
        chunk, meta = reports.page_of(contacts, params, request.base_url)
        return json_response({"data": [reports.contact_view(self.data, c, extend) for c in chunk], "meta": meta})

    def get_contact(self, request: Request, account: str, ident: str) -> Response:
        extend = reports.extensions_from(self._params(request))
        contact = self.data.lookup(ident)
        if contact is None:
            return self.error(404, "contact not found")
        return json_response({"data": reports.contact_view(self.data, contact, extend)})
