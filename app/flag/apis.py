"""Feature flags over HTTP: every logged-in user reads the flags evaluated for them; platform
admins (the operator, not salon owners) list and change flags."""

from __future__ import annotations

from decimal import Decimal

from booking_api.api import IsPlatformAdmin, get_or_404
from booking_api.schema import error_responses
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from salon.selectors import salon_get

from flag import selectors, services
from flag.models import Flag


class FlagStatesQuerySerializer(serializers.Serializer):
    salon = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Evaluate for this salon too: flags rolled out to named salons or by "
        "percentage of salons.",
    )


class FlagSerializer(serializers.ModelSerializer):
    users = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    salons = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "name",
            "note",
            "everyone",
            "percent",
            "users",
            "salons",
            "superusers",
            "staff",
            "authenticated",
            "created",
            "modified",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "everyone": {"help_text": "true: on for all; false: off for all; null: the rules."}
        }


class FlagUpdateSerializer(serializers.Serializer):
    everyone = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="true: on for all; false: off for all (overrides every rule); null: the rules "
        "(named users and salons, percent).",
    )
    percent = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        min_value=Decimal(0),
        max_value=Decimal("99.9"),
        required=False,
        allow_null=True,
        help_text="Share of users (or of salons, when evaluated for a salon), 0.0 to 99.9.",
    )
    users = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Replaces the named users.",
    )
    salons = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Replaces the named salons.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class FlagStatesApi(APIView):
    @extend_schema(
        parameters=[FlagStatesQuerySerializer],
        responses=OpenApiResponse(
            response=dict[str, bool],
            description="Every feature flag, on or off for the logged-in user: `{name: bool}`.",
        ),
    )
    def get(self, request):
        query = FlagStatesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        salon = None
        if "salon" in query.validated_data:
            salon = salon_get(query.validated_data["salon"])
            if salon is None:
                raise serializers.ValidationError({"salon": "No such salon."})
        return Response(selectors.flag_states(user=request.user, salon=salon))


# IsPlatformAdmin: 403 for anyone logged in who is not a platform admin.
FORBIDDEN = error_responses(403)


class FlagListApi(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses={200: FlagSerializer(many=True), **FORBIDDEN})
    def get(self, request):
        return Response(FlagSerializer(selectors.flag_list(), many=True).data)


class FlagDetailApi(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses={200: FlagSerializer, **FORBIDDEN})
    def get(self, request, name: str):
        return Response(FlagSerializer(get_or_404(selectors.flag_get(name))).data)

    @extend_schema(request=FlagUpdateSerializer, responses={200: FlagSerializer, **FORBIDDEN})
    def patch(self, request, name: str):
        flag = get_or_404(selectors.flag_get(name))
        data = FlagUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.flag_update(user=request.user, flag=flag, **data.validated_data)
        return Response(FlagSerializer(selectors.flag_get(flag.name)).data)
