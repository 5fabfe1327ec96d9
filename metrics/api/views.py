"""Run store API (v1): runs, phases, the token ledger and events."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from autopack_site import kill_switches
from autopack_site.api.pagination import StrictLimitOffsetPagination, page_parameters
from autopack_site.api.scopes import INGEST
from metrics import selectors, services
from metrics.api import serializers as s
from metrics.api.filters import EventFilter, RunFilter
from metrics.api.ledger_validation import LedgerBatchParser, ledger_batch_validate
from metrics.models import IDENTIFIER_PATTERN, DashboardEvent, Run


def flatten_nested_tiers(validated: dict) -> tuple[dict, list[dict], list[dict]]:
    """Split a nested run body into (run fields, tiers, phases naming their tier)."""
    run_fields = dict(validated)
    tiers, phases = [], []
    for tier in run_fields.pop("tiers"):
        tier = dict(tier)
        for phase in tier.pop("phases"):
            phases.append({**phase, "tier_id": tier["tier_id"]})
        tiers.append(tier)
    return run_fields, tiers, phases


class RunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Runs with their tiers and phases."""

    queryset = Run.objects.none()
    lookup_value_regex = IDENTIFIER_PATTERN
    filter_backends = [DjangoFilterBackend]
    filterset_class = RunFilter
    # What an executor writes; deleting a run (and its ledger) stays admin.
    write_scopes = {"create": INGEST, "partial_update": INGEST, "metrics": INGEST, "events": INGEST}

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.runs_with_tiers_and_phases()
        return selectors.runs_newest_first()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return s.RunDetailSerializer
        if self.action == "create":
            return s.RunCreateSerializer
        return s.RunSerializer

    @extend_schema(
        request=s.RunMetadataUpdateSerializer, responses={200: s.RunDetailSerializer, 409: None}
    )
    def partial_update(self, request, pk=None):
        """Report the commit SHA, branch and model-mapping hash the run really runs with
        (409 once the run is finished)."""
        body = s.RunMetadataUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.run_experiment_metadata_set(
            run=selectors.run_get(pk), changes=body.validated_data
        )
        return Response(s.RunDetailSerializer(selectors.run_detail_get(run.pk)).data)

    @extend_schema(request=s.RunCreateSerializer, responses={201: s.RunDetailSerializer})
    def create(self, request):
        serializer = s.RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run_fields, tiers, phases = flatten_nested_tiers(serializer.validated_data)
        if run_fields.get("replay_of"):
            run_fields["replay_of"] = selectors.run_named(run_fields["replay_of"], "replay_of")
        run = services.run_create(run_fields=run_fields, tiers=tiers, phases=phases)
        run = selectors.run_detail_get(run.pk)
        return Response(s.RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        responses=s.LedgerRowSerializer(many=True),
        parameters=page_parameters(default_limit=StrictLimitOffsetPagination.default_limit),
    )
    @extend_schema(
        methods=["POST"],
        request=s.batch_serializer(s.LedgerRowInputSerializer()),
        responses={
            201: OpenApiResponse(s.LedgerIngestResultSerializer, description="rows created"),
            200: OpenApiResponse(
                s.LedgerIngestResultSerializer, description="nothing new: updated or unchanged"
            ),
            503: None,
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="metrics",
        filter_backends=[],
        parser_classes=[LedgerBatchParser],
    )
    def metrics(self, request, pk=None):
        """List the run's ledger rows, or upsert a batch of them (idempotent)."""
        if request.method == "POST":
            # The switch is checked first: a disabled feature refuses before validation.
            kill_switches.require(kill_switches.PHASE6_METRICS)
        run = selectors.run_get(pk)
        if request.method == "GET":
            page = self.paginate_queryset(selectors.ledger_rows_for_run(run))
            return self.get_paginated_response(s.LedgerRowSerializer(page, many=True).data)
        rows = ledger_batch_validate(request.data)
        result = services.phase_metrics_ingest(run=run, rows=rows)
        # 201 only when the batch created rows: a re-send changes nothing (200).
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(s.LedgerIngestResultSerializer(result).data, status=code)

    @extend_schema(
        methods=["GET"],
        responses=s.EventSerializer(many=True),
        parameters=[
            OpenApiParameter("event_type", str, many=True, enum=DashboardEvent.EventType.values)
        ],
    )
    @extend_schema(
        methods=["POST"],
        request=s.batch_serializer(s.EventInputSerializer()),
        responses={201: s.EventSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], url_path="events", filter_backends=[])
    def events(self, request, pk=None):
        """List the run's events (newest first), or record a batch of them."""
        run = selectors.run_get(pk)
        if request.method == "GET":
            queryset = EventFilter(request.query_params, queryset=selectors.events_for_run(run))
            if not queryset.is_valid():
                return Response(queryset.errors, status=status.HTTP_400_BAD_REQUEST)
            page = self.paginate_queryset(queryset.qs)
            return self.get_paginated_response(s.EventSerializer(page, many=True).data)
        events = _validated_batch(s.EventInputSerializer, request.data)
        created = services.events_record(run=run, events=events)
        return Response(s.EventSerializer(created, many=True).data, status=status.HTTP_201_CREATED)


def _validated_batch(child_class, data) -> list[dict]:
    """Validate a JSON list body: 400 with per-row field errors, never a 500."""
    serializer = s.batch_serializer(child_class(), data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PhaseDetailView(APIView):
    """One phase of a run: read it, or update its state and counters."""

    write_scope = INGEST

    @extend_schema(responses=s.PhaseSerializer)
    def get(self, request, run_id: str, phase_id: str):
        return Response(s.PhaseSerializer(selectors.phase_get(run_id, phase_id)).data)

    @extend_schema(request=s.PhaseUpdateSerializer, responses=s.PhaseSerializer)
    def patch(self, request, run_id: str, phase_id: str):
        phase = selectors.phase_get(run_id, phase_id)
        serializer = s.PhaseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.phase_update(phase=phase, changes=serializer.validated_data)
        return Response(s.PhaseSerializer(selectors.phase_get(run_id, phase_id)).data)
