"""SQS → one vendor: each record delivered at most once, retried through SQS, or dead-lettered."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from webhook_bridge.delivery.factory import build_processor, warm_up
from webhook_bridge.observability import logger, metrics, tracer
from webhook_bridge.settings import delivery_settings
from webhook_bridge.snapstart import prepare_snapshot

prepare_snapshot(warm_up)
batch = AsyncBatchProcessor(event_type=EventType.SQS)
# One thread per record of the largest SQS batch (10): the vendor clients are synchronous,
# and asyncio's default executor has only cpu_count + 4 threads.
vendor_calls = ThreadPoolExecutor(max_workers=10, thread_name_prefix="delivery")


async def handle_record(record: SQSRecord) -> str:
    return await asyncio.get_running_loop().run_in_executor(vendor_calls, build_processor().handle, record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    metrics.add_dimension(name="vendor", value=delivery_settings().vendor.value)
    # Built once, before the batch's threads share it.
    build_processor().start_invocation(context)
    return async_process_partial_response(event=event, record_handler=handle_record, processor=batch, context=context)
