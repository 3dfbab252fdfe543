from __future__ import annotations

from booking_api.api import AwareDateTimeField, get_or_404
from booking_api.schema import error_responses
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView
from salon.selectors import salon_get

from appointment import selectors, services
from appointment.models import Appointment, AppointmentStatus


# Output only: read-only fields are required in the schema (the API always sends them).
class AppointmentSerializer(serializers.ModelSerializer):
    salon = serializers.PrimaryKeyRelatedField(read_only=True)
    staff = serializers.PrimaryKeyRelatedField(read_only=True)
    service = serializers.PrimaryKeyRelatedField(read_only=True)
    customer = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "salon",
            "staff",
            "service",
            "customer",
            "starts_at",
            "ends_at",
            "status",
            "price",
            "currency",
            "notes",
            "created_at",
            "cancelled_at",
        ]
        read_only_fields = fields


class BookInputSerializer(serializers.Serializer):
    salon = serializers.IntegerField(min_value=1)
    service = serializers.IntegerField(min_value=1)
    staff = serializers.IntegerField(min_value=1)
    starts_at = AwareDateTimeField(help_text="ISO 8601 with offset, e.g. from availability")
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RescheduleInputSerializer(serializers.Serializer):
    starts_at = AwareDateTimeField()
    staff = serializers.IntegerField(min_value=1, required=False)


class AppointmentFilterSerializer(serializers.Serializer):
    salon = serializers.IntegerField(min_value=1, required=False)
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, required=False)
    starts_after = serializers.DateTimeField(required=False)
    starts_before = serializers.DateTimeField(required=False)


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Retries with the same key and body return the first booking.",
)


class AppointmentPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class AppointmentListApi(APIView):
    # On the view, not only instantiated in get(): drf-spectacular reads ``pagination_class``
    # to document the count/next/previous/results envelope and the limit/offset parameters.
    pagination_class = AppointmentPagination

    @extend_schema(
        parameters=[AppointmentFilterSerializer], responses=AppointmentSerializer(many=True)
    )
    def get(self, request):
        filters = AppointmentFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.appointment_list(user=request.user, filters=filters.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AppointmentSerializer(page, many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=BookInputSerializer,
        responses={
            201: AppointmentSerializer,
            200: AppointmentSerializer,
            **error_responses(409, 422),
        },
    )
    def post(self, request):
        data = BookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 128:
            raise serializers.ValidationError({"Idempotency-Key": "At most 128 characters."})
        salon = salon_get(data.validated_data["salon"])
        if salon is None or not salon.is_active:
            raise serializers.ValidationError({"salon": "No such salon."})
        appointment, created = services.appointment_book(
            customer=request.user,
            salon=salon,
            service_id=data.validated_data["service"],
            staff_id=data.validated_data["staff"],
            starts_at=data.validated_data["starts_at"],
            notes=data.validated_data.get("notes", ""),
            idempotency_key=key,
        )
        return Response(
            AppointmentSerializer(appointment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _visible(request, appointment_id: int) -> Appointment:
    return get_or_404(
        selectors.appointment_visible_to(request.user).filter(pk=appointment_id).first()
    )


class AppointmentDetailApi(APIView):
    @extend_schema(responses=AppointmentSerializer)
    def get(self, request, appointment_id: int):
        return Response(AppointmentSerializer(_visible(request, appointment_id)).data)


class AppointmentCancelApi(APIView):
    @extend_schema(
        request=None,
        # 400: a customer past the salon's cancellation window.
        responses={200: AppointmentSerializer, **error_responses(400, 403, 409)},
    )
    def post(self, request, appointment_id: int):
        appointment = services.appointment_cancel(
            user=request.user, appointment=_visible(request, appointment_id)
        )
        return Response(AppointmentSerializer(appointment).data)


class AppointmentRescheduleApi(APIView):
    @extend_schema(
        request=RescheduleInputSerializer,
        responses={200: AppointmentSerializer, **error_responses(403, 409)},
    )
    def post(self, request, appointment_id: int):
        appointment = _visible(request, appointment_id)
        data = RescheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_reschedule(
            user=request.user,
            appointment=appointment,
            starts_at=data.validated_data["starts_at"],
            staff_id=data.validated_data.get("staff"),
        )
        return Response(AppointmentSerializer(appointment).data)


# 400 for both: the appointment has not started yet.
CLOSE_RESPONSES = {200: AppointmentSerializer, **error_responses(400, 403, 409)}


class AppointmentCompleteApi(APIView):
    @extend_schema(request=None, responses=CLOSE_RESPONSES)
    def post(self, request, appointment_id: int):
        appointment = services.appointment_complete(
            user=request.user, appointment=_visible(request, appointment_id)
        )
        return Response(AppointmentSerializer(appointment).data)


class AppointmentNoShowApi(APIView):
    @extend_schema(request=None, responses=CLOSE_RESPONSES)
    def post(self, request, appointment_id: int):
        appointment = services.appointment_mark_no_show(
            user=request.user, appointment=_visible(request, appointment_id)
        )
        return Response(AppointmentSerializer(appointment).data)
