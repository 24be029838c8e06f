"""The one place that owns Logger, Tracer and Metrics for every function."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "webhook-bridge"
NAMESPACE = "WebhookBridge"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
