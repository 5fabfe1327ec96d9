"""Replay campaigns over HTTP: list, inspect, start (a dry run unless asked otherwise),
cancel and resume."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from autopack_site.api.authentication import caller_name
from metrics.selectors import unknown_run_ids
from replay import dispatch, services
from replay.api import serializers as s
from replay.models import ReplayCampaign
from replay.selectors import replay_candidates, runs_for_replay


class ReplayCampaignViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Replay campaigns, newest first; each with its attempts."""

    queryset = ReplayCampaign.objects.order_by("-created_at", "-id")
    filter_backends = []

    def get_serializer_class(self):
        return s.CampaignDetailSerializer if self.action == "retrieve" else s.CampaignSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return self.queryset.prefetch_related("attempts")
        return self.queryset

    @extend_schema(
        request=s.CampaignRequestSerializer,
        responses={
            200: OpenApiResponse(s.SelectionSerializer, description="dry run: the selection"),
            202: OpenApiResponse(s.CampaignSerializer, description="the campaign, started"),
            404: OpenApiResponse(description="a run named in run_ids does not exist"),
            503: OpenApiResponse(description="no executor, or Phase 6 off where replays report"),
        },
    )
    def create(self, request):
        body = s.CampaignRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        options = body.validated_data
        if unknown := unknown_run_ids(options["run_ids"]):
            raise NotFound(f"No such run: {', '.join(unknown)}.")
        runs = runs_for_replay(
            run_ids=options["run_ids"],
            date_from=options.get("from_date"),
            date_to=options.get("to_date"),
            state=options["state"],
        )
        candidates = replay_candidates(runs)
        if options["dry_run"] or not candidates:
            return Response(
                s.SelectionSerializer({"dry_run": options["dry_run"], "runs": candidates}).data
            )
        campaign = services.replay_campaign_open(
            runs=list(runs),
            filters=services.campaign_filters(
                run_ids=options["run_ids"],
                from_date=options.get("from_date"),
                to_date=options.get("to_date"),
                state=options["state"],
            ),
            executor=services.executor_named(options["executor"]),
            executor_name=options["executor"],
            batch_size=options["batch_size"],
            timeout_seconds=options["timeout_seconds"],
            created_by=caller_name(request),
            expand_patterns=options["expand_patterns"],
        )
        dispatch.campaign_start(campaign=campaign)
        return Response(s.CampaignSerializer(campaign).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.CampaignSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Queued attempts never start; running replays are killed by their runner."""
        campaign = self.get_object()
        services.campaign_cancel_and_settle(campaign=campaign)
        campaign.refresh_from_db()
        return Response(s.CampaignSerializer(campaign).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.CampaignSerializer, 409: None, 503: None})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Run what is unfinished again, on the same clones (409 while it runs elsewhere)."""
        campaign = self.get_object()
        executor = services.executor_named(campaign.executor)
        services.replay_preflight(executor=executor)
        services.campaign_resume(campaign=campaign)
        dispatch.campaign_start(campaign=campaign)
        campaign.refresh_from_db()
        return Response(s.CampaignSerializer(campaign).data, status=status.HTTP_202_ACCEPTED)
