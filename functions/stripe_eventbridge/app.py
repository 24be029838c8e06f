"""Stripe events from Amazon EventBridge, through SQS: the webhook receiver's dedupe → map → enqueue, no signature."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from webhook_bridge.observability import logger, metrics, tracer
from webhook_bridge.receiver.eventbridge import stripe_event
from webhook_bridge.receiver.exceptions import ReceiverError
from webhook_bridge.receiver.factory import build_receiver, warm_up
from webhook_bridge.receiver.providers import STRIPE
from webhook_bridge.snapstart import prepare_snapshot

prepare_snapshot(lambda: warm_up(STRIPE))
# A batch whose every record fails is answered like any other: each record retried, then
# dead-lettered, by itself. Raising instead would log every record's error text as a crash.
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> dict[str, Any]:
    # A failure (malformed, SQS or DynamoDB unavailable) leaves the record in the queue for a retry,
    # then in its dead-letter queue.
    try:
        return build_receiver(STRIPE).handle_unsigned(record.body.encode("utf-8"), unwrap=stripe_event)
    except ReceiverError as error:
        # As the webhook route logs it (its reasons name fields, never values).
        logger.warning("webhook refused", extra={"status": error.status_code, "reason": str(error)})
        raise


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    metrics.add_dimension(name="provider", value=STRIPE.name)  # the webhook's: one dashboard row for both ways
    build_receiver(STRIPE).dedupe.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=handle_record, processor=batch, context=context)
