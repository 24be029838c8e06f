"""POST /webhooks/typeform: verify the Typeform signature, deduplicate, map, enqueue; answer 2xx only when queued."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from webhook_bridge.observability import logger, metrics, tracer
from webhook_bridge.receiver.factory import build_receiver, warm_up
from webhook_bridge.receiver.http import build_app
from webhook_bridge.receiver.providers import TYPEFORM
from webhook_bridge.snapstart import prepare_snapshot

prepare_snapshot(lambda: warm_up(TYPEFORM))
app = build_app("/webhooks/typeform", lambda: build_receiver(TYPEFORM))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_dimension(name="provider", value=TYPEFORM.name)  # log_metrics clears it after the invocation
    return app.resolve(event, context)
