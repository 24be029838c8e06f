"""RetryPolicy.decide: the delay before each retry, and when a message goes to the DLQ instead.

Delays carry random jitter, so each assertion is a bound that holds for every draw.
"""

from __future__ import annotations

import pytest

from webhook_bridge.delivery.failures import classify
from webhook_bridge.delivery.policy import LAST_ATTEMPT_MIN_SECONDS, DeadLetter, Retry, RetryPolicy
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.vendors.exceptions import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    VendorError,
)

NOW = 1_800_000_000.0
POLICY = RetryPolicy(base_delay=30.0, max_delay=3600.0, throttle_default=5.0, window_seconds=26 * 3600.0)
DRAWS = 200  # enough draws that a wrong jitter range shows


def throttled(retry_after: float | None) -> RateLimitError:
    return RateLimitError("loops", "slow down", status_code=429, retry_after=retry_after)


def unavailable(retry_after: float | None = None) -> InternalServerError:
    return InternalServerError("loops", "down", status_code=503, retry_after=retry_after)


FIRST_FAILURE = RetryState()


def delays(error: VendorError, state: RetryState = FIRST_FAILURE, policy: RetryPolicy = POLICY) -> list[float]:
    outcomes = [policy.decide(classify(error), state, NOW) for _ in range(DRAWS)]
    retries = [outcome for outcome in outcomes if isinstance(outcome, Retry)]
    assert len(retries) == DRAWS, outcomes[0]
    return [retry.delay for retry in retries]


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("loops", "eventName is required", status_code=400),
        NotFoundError("loops", "no such contact", status_code=404),
        RequestValidationError("loops", "body is not JSON"),
    ],
)
def test_a_permanent_error_is_dead_lettered_at_once_with_its_class(error):
    assert POLICY.decide(classify(error), RetryState(), NOW) == DeadLetter(reason=classify(error).describe())


def test_a_429_waits_what_the_vendor_asked_plus_under_a_second():
    waited = delays(throttled(120))
    assert min(waited) >= 120 and max(waited) < 121
    assert len(set(waited)) > 1  # jittered, so throttled copies do not come back together
    decision = POLICY.decide(classify(throttled(120)), RetryState(), NOW)
    assert decision == Retry(delay=pytest.approx(120.5, abs=0.5), throttled=True)


def test_a_429_without_a_delay_waits_the_default_not_zero():
    waited = delays(throttled(None))
    assert min(waited) >= 5 and max(waited) < 6


def test_a_429_asking_for_more_than_the_backoff_maximum_is_honoured():
    waited = delays(throttled(10 * 3600))
    assert min(waited) >= 10 * 3600 and max(waited) < 10 * 3600 + 1


def test_a_429_delay_in_the_past_means_now():
    waited = delays(throttled(-30))
    assert min(waited) >= 0 and max(waited) < 1


@pytest.mark.parametrize("attempts", [0, 1, 2, 3, 5, 7, 12, 30])
def test_transient_failures_back_off_exponentially_with_equal_jitter(attempts):
    ceiling = min(3600.0, 30.0 * 2**attempts)  # this failure is attempt number attempts + 1
    waited = delays(unavailable(), RetryState(attempts=attempts, first_attempt_at=NOW))
    assert min(waited) >= ceiling / 2 and max(waited) <= ceiling
    # Spread over the whole upper half: 200 draws all missing a tenth of it would be a 1e-9 event.
    assert min(waited) < ceiling * 0.6 and max(waited) > ceiling * 0.9


def test_a_base_delay_under_a_second_is_jittered_over_its_whole_upper_half_too():
    waited = delays(unavailable(), policy=RetryPolicy(base_delay=1.0))
    assert min(waited) >= 0.5 and max(waited) <= 1.0
    assert min(waited) < 0.6 and max(waited) > 0.9


@pytest.mark.parametrize("error", [APIConnectionError("loops", "reset"), APITimeoutError("loops", "timed out")])
def test_connection_failures_are_retried_like_5xx_and_not_as_throttling(error):
    decision = POLICY.decide(classify(error), RetryState(), NOW)
    assert isinstance(decision, Retry) and not decision.throttled
    assert 15 <= decision.delay <= 30


def test_a_5xx_retry_after_is_honoured_when_longer_than_the_backoff():
    waited = delays(unavailable(retry_after=600))
    assert set(waited) == {600.0}
    assert POLICY.decide(classify(unavailable(600)), RetryState(), NOW) == Retry(delay=600.0, throttled=False)


def test_a_5xx_retry_after_shorter_than_the_backoff_does_not_shorten_it():
    waited = delays(unavailable(retry_after=1), RetryState(attempts=3, first_attempt_at=NOW))
    assert min(waited) >= 120 and max(waited) <= 240


def test_a_5xx_retry_after_beyond_the_backoff_maximum_is_honoured():
    assert set(delays(unavailable(retry_after=7200))) == {7200.0}


def test_retries_continue_while_the_next_attempt_is_inside_the_window():
    policy = RetryPolicy(base_delay=10.0, max_delay=10.0, window_seconds=1000.0)
    state = RetryState(attempts=4, first_attempt_at=NOW - (1000 - 10))  # every delay (5-10 s) ends inside
    assert all(isinstance(policy.decide(classify(unavailable()), state, NOW), Retry) for _ in range(DRAWS))


def test_retries_stop_when_the_next_attempt_would_fall_outside_the_window():
    policy = RetryPolicy(base_delay=10.0, max_delay=10.0, window_seconds=1000.0)
    state = RetryState(attempts=4, first_attempt_at=NOW - (1000 - 4))  # every delay (5-10 s) ends outside
    decision = policy.decide(classify(unavailable()), state, NOW)
    assert decision == DeadLetter(reason=f"retries exhausted after 5 attempts: {classify(unavailable()).describe()}")


def test_the_window_counts_from_the_first_failure_not_from_now():
    policy = RetryPolicy(base_delay=10.0, max_delay=10.0, window_seconds=1000.0)
    # A first failure: the window starts now, so even a long history of attempts is retried.
    assert isinstance(policy.decide(classify(unavailable()), RetryState(attempts=50), NOW), Retry)


def test_a_long_429_storm_is_bounded_by_the_window_too():
    state = RetryState(attempts=500, first_attempt_at=NOW - 26 * 3600 + LAST_ATTEMPT_MIN_SECONDS / 2)
    decision = POLICY.decide(classify(throttled(120)), state, NOW)
    assert isinstance(decision, DeadLetter) and decision.reason.startswith("retries exhausted after 501 attempts")


def test_a_delay_asked_past_the_window_gets_one_last_attempt_at_its_end():
    state = RetryState(attempts=3, first_attempt_at=NOW - 26 * 3600 + 600)
    assert POLICY.decide(classify(throttled(3600)), state, NOW) == Retry(delay=600.0, throttled=True)
    assert POLICY.decide(classify(unavailable(3600)), state, NOW) == Retry(delay=600.0, throttled=False)


def test_the_last_attempt_is_kept_when_exactly_the_minimum_is_left_and_dropped_below_it():
    at_the_minimum = RetryState(attempts=3, first_attempt_at=NOW - 26 * 3600 + LAST_ATTEMPT_MIN_SECONDS)
    decision = POLICY.decide(classify(throttled(3600)), at_the_minimum, NOW)
    assert decision == Retry(delay=LAST_ATTEMPT_MIN_SECONDS, throttled=True)
    just_below = RetryState(attempts=3, first_attempt_at=NOW - 26 * 3600 + LAST_ATTEMPT_MIN_SECONDS - 1)
    assert isinstance(POLICY.decide(classify(throttled(3600)), just_below, NOW), DeadLetter)


def test_identity_waits_may_use_the_window_to_its_last_second():
    policy = RetryPolicy(identity_wait_base=10, identity_wait_window=70)
    assert [policy.identity_wait(n) for n in range(4)] == [10, 20, 40, None]  # 10 + 20 + 40 = 70
