"""Which deployment to try next: the routed model's deployments in balanced order, then its fallbacks.

A round tries every deployment that is available at most once. A deployment's failure moves the
request to the model's next deployment at once; when the model has none left, to the next model of
its fallback chain for the kind of failure (throttled or failing, context too long, content filtered).
When the round has nothing left, the caller may wait and start a new round from the routed model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gateway.errors import FallbackReason
from gateway.frozen import frozen
from gateway.upstream.deployments import Deployment


@frozen
class Candidate:
    model: str
    deployment: Deployment
    fallback_from: str | None  # the model this request fell back from, None for the routed model


class Plan:
    def __init__(
        self,
        model: str,
        deployments_of: Callable[[str], Sequence[Deployment]],
        fallbacks_of: Callable[[str, FallbackReason], Sequence[str]],
        is_available: Callable[[Deployment], bool],
    ) -> None:
        self.routed_model = model
        self._deployments_of = deployments_of
        self._fallbacks_of = fallbacks_of
        self._is_available = is_available
        self._start_round()

    def _start_round(self) -> None:
        self.model = self.routed_model
        self._previous: str | None = None
        self._models_seen = {self.routed_model: None}  # a dict for its order: the models this round reached
        self._pending_models: list[str] = []
        self._tried: set[str] = set()
        self._orders: dict[str, list[Deployment]] = {}  # each model's balanced order, drawn once a round

    def _deployments(self, model: str) -> list[Deployment]:
        order = self._orders.get(model)
        if order is None:
            order = self._orders[model] = list(self._deployments_of(model))
        return order

    def next(self, reason: FallbackReason = "failure") -> Candidate | None:
        """The next candidate of this round, or None when the round is over. `reason` is why the last
        candidate failed, which picks the fallback chain to follow once the model has no deployment left."""
        while True:
            for deployment in self._deployments(self.model):
                if deployment.id not in self._tried and self._is_available(deployment):
                    self._tried.add(deployment.id)
                    return Candidate(self.model, deployment, self._previous)
            if not self._move_on(reason):
                return None

    def leave_model(self, reason: FallbackReason) -> bool:
        """Give up on the current model at once (its other deployments would answer the same), e.g. when
        Azure says the prompt is too long for it. False when its chain for `reason` has nothing left."""
        return self._move_on(reason, keep_pending=False)

    def has_untried(self) -> bool:
        """Whether this round could still go somewhere without waiting."""
        return any(
            deployment.id not in self._tried and self._is_available(deployment)
            for model in (self.model, *self._upcoming("failure"))
            for deployment in self._deployments(model)
        )

    def passed_over(self) -> list[Candidate]:
        """This round's candidates that were not tried: those unavailable when their turn came (or since
        become available), in the order the round reached them. Once the round is over, these are what
        waiting could bring back."""
        passed = []
        previous: str | None = None
        for model in self._models_seen:
            passed += [
                Candidate(model, deployment, previous)
                for deployment in self._deployments(model)
                if deployment.id not in self._tried
            ]
            previous = model
        return passed

    def new_round(self) -> None:
        self._start_round()

    def _upcoming(self, reason: FallbackReason, keep_pending: bool = True) -> list[str]:
        """The current model's unseen fallbacks for `reason`, then (unless left) those still pending."""
        chain = [model for model in self._fallbacks_of(self.model, reason) if model not in self._models_seen]
        if not keep_pending:
            return chain
        return chain + [model for model in self._pending_models if model not in chain]

    def _move_on(self, reason: FallbackReason, keep_pending: bool = True) -> bool:
        upcoming = self._upcoming(reason, keep_pending)
        if not upcoming:
            return False
        self._previous, self.model = self.model, upcoming[0]
        self._models_seen[self.model] = None
        self._pending_models = upcoming[1:]
        return True
