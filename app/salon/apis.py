"""Thin views: parse input, call a selector or service, serialize output."""

from __future__ import annotations

from address.models import Address
from appointment.availability_cache import AvailabilityCacheLookup
from appointment.selectors import availability_cached
from booking_api.api import AwareDateTimeField, ReadAnyWriteAuthenticated, get_or_404
from booking_api.schema import error_responses
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from salon import selectors, services
from salon.models import Closure, OpeningHours, Salon, Service, StaffMember, TimeOff, WorkingHours
from salon.permissions import can_edit_staff_schedule

# --- Serializers ----------------------------------------------------------------------------

# The ModelSerializers here only ever serialize output: all their fields are read-only, so the
# schema marks every field as always sent (required), not as optional for clients to omit.


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["line1", "line2", "city", "region", "postal_code", "country"]
        read_only_fields = fields


class AddressInputSerializer(serializers.Serializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=12)
    country = serializers.CharField(max_length=2, min_length=2)


class SalonSerializer(serializers.ModelSerializer):
    address = AddressSerializer()

    class Meta:
        model = Salon
        fields = [
            "id",
            "name",
            "owner",
            "address",
            "timezone",
            "phone",
            "slot_interval_minutes",
            "lead_time_minutes",
            "booking_horizon_days",
            "cancellation_window_minutes",
            "is_active",
        ]
        read_only_fields = fields


class SalonInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    address = AddressInputSerializer()
    timezone = serializers.CharField(max_length=64)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    slot_interval_minutes = serializers.IntegerField(min_value=5, max_value=240, required=False)
    lead_time_minutes = serializers.IntegerField(min_value=0, max_value=43200, required=False)
    booking_horizon_days = serializers.IntegerField(min_value=1, max_value=366, required=False)
    cancellation_window_minutes = serializers.IntegerField(
        min_value=0, max_value=43200, required=False
    )
    is_active = serializers.BooleanField(required=False)


class OpeningHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningHours
        fields = ["id", "weekday", "opens", "closes"]
        read_only_fields = fields


class _HoursInput(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)

    start_field = "opens"
    end_field = "closes"

    def validate(self, attrs):
        if attrs[self.end_field] <= attrs[self.start_field]:
            raise serializers.ValidationError(
                {self.end_field: f"Must be later than {self.start_field}."}
            )
        return attrs


class OpeningHoursInputSerializer(_HoursInput):
    opens = serializers.TimeField()
    closes = serializers.TimeField()


class WorkingHoursInputSerializer(_HoursInput):
    starts = serializers.TimeField()
    ends = serializers.TimeField()
    start_field = "starts"
    end_field = "ends"


class WorkingHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkingHours
        fields = ["id", "weekday", "starts", "ends"]
        read_only_fields = fields


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Closure
        fields = ["id", "start_date", "end_date", "reason"]
        read_only_fields = fields


class ClosureInputSerializer(serializers.Serializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": "Must not be before start_date."})
        return attrs


class StaffSerializer(serializers.ModelSerializer):
    working_hours = WorkingHoursSerializer(many=True, read_only=True)

    class Meta:
        model = StaffMember
        fields = ["id", "display_name", "is_active", "working_hours"]
        read_only_fields = fields


class StaffInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    display_name = serializers.CharField(max_length=100)


class StaffUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=100, required=False)
    is_active = serializers.BooleanField(required=False)


class TimeOffSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeOff
        fields = ["id", "starts_at", "ends_at", "reason"]
        read_only_fields = fields


class TimeOffInputSerializer(serializers.Serializer):
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "Must be later than starts_at."})
        return attrs


class ServiceSerializer(serializers.ModelSerializer):
    staff = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "duration_minutes",
            "buffer_minutes",
            "price",
            "currency",
            "staff",
            "is_active",
        ]
        read_only_fields = fields


class ServiceInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    duration_minutes = serializers.IntegerField(min_value=5, max_value=720)
    buffer_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False)
    price = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    staff_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=500
    )
    is_active = serializers.BooleanField(required=False)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Salon-local time with UTC offset")
    end = serializers.DateTimeField(help_text="Salon-local time with UTC offset")
    staff_ids = serializers.ListField(child=serializers.IntegerField())


class AvailabilityQuerySerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1)
    date = serializers.DateField()
    staff = serializers.IntegerField(min_value=1, required=False)


# --- Views ----------------------------------------------------------------------------------

# Every write below, and reading time off: only the salon's owner (or, for working hours and
# time off, that staff member) may; anyone else logged in gets 403 (salon/permissions.py).
FORBIDDEN = error_responses(403)
NO_CONTENT = {204: None, **FORBIDDEN}


def _salon(salon_id: int) -> Salon:
    return get_or_404(selectors.salon_get(salon_id))


def _staff(salon_id: int, staff_id: int) -> StaffMember:
    return get_or_404(selectors.staff_get(_salon(salon_id), staff_id))


class SalonListApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=SalonSerializer(many=True))
    def get(self, request):
        return Response(SalonSerializer(selectors.salon_list(), many=True).data)

    @extend_schema(request=SalonInputSerializer, responses={201: SalonSerializer, **FORBIDDEN})
    def post(self, request):
        data = SalonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        salon = services.salon_create(user=request.user, **data.validated_data)
        return Response(SalonSerializer(salon).data, status=status.HTTP_201_CREATED)


class SalonDetailApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=SalonSerializer)
    def get(self, request, salon_id: int):
        return Response(SalonSerializer(_salon(salon_id)).data)

    @extend_schema(
        request=SalonInputSerializer(partial=True), responses={200: SalonSerializer, **FORBIDDEN}
    )
    def patch(self, request, salon_id: int):
        salon = _salon(salon_id)
        data = SalonInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        salon = services.salon_update(user=request.user, salon=salon, **data.validated_data)
        return Response(SalonSerializer(salon).data)


class OpeningHoursListApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=OpeningHoursSerializer(many=True))
    def get(self, request, salon_id: int):
        hours = selectors.opening_hours_list(_salon(salon_id))
        return Response(OpeningHoursSerializer(hours, many=True).data)

    @extend_schema(
        request=OpeningHoursInputSerializer, responses={201: OpeningHoursSerializer, **FORBIDDEN}
    )
    def post(self, request, salon_id: int):
        salon = _salon(salon_id)
        data = OpeningHoursInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hours = services.opening_hours_create(user=request.user, salon=salon, **data.validated_data)
        return Response(OpeningHoursSerializer(hours).data, status=status.HTTP_201_CREATED)


class OpeningHoursDetailApi(APIView):
    @extend_schema(responses=NO_CONTENT)
    def delete(self, request, salon_id: int, pk: int):
        hours = get_or_404(selectors.opening_hours_list(_salon(salon_id)).filter(pk=pk).first())
        services.opening_hours_delete(user=request.user, hours=hours)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClosureListApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=ClosureSerializer(many=True))
    def get(self, request, salon_id: int):
        return Response(ClosureSerializer(selectors.closure_list(_salon(salon_id)), many=True).data)

    @extend_schema(request=ClosureInputSerializer, responses={201: ClosureSerializer, **FORBIDDEN})
    def post(self, request, salon_id: int):
        salon = _salon(salon_id)
        data = ClosureInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        closure = services.closure_create(user=request.user, salon=salon, **data.validated_data)
        return Response(ClosureSerializer(closure).data, status=status.HTTP_201_CREATED)


class ClosureDetailApi(APIView):
    @extend_schema(responses=NO_CONTENT)
    def delete(self, request, salon_id: int, pk: int):
        closure = get_or_404(selectors.closure_list(_salon(salon_id)).filter(pk=pk).first())
        services.closure_delete(user=request.user, closure=closure)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffListApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=StaffSerializer(many=True))
    def get(self, request, salon_id: int):
        return Response(StaffSerializer(selectors.staff_list(_salon(salon_id)), many=True).data)

    @extend_schema(request=StaffInputSerializer, responses={201: StaffSerializer, **FORBIDDEN})
    def post(self, request, salon_id: int):
        salon = _salon(salon_id)
        data = StaffInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.staff_add(user=request.user, salon=salon, **data.validated_data)
        return Response(StaffSerializer(member).data, status=status.HTTP_201_CREATED)


class StaffDetailApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=StaffSerializer)
    def get(self, request, salon_id: int, staff_id: int):
        return Response(StaffSerializer(_staff(salon_id, staff_id)).data)

    @extend_schema(request=StaffUpdateSerializer, responses={200: StaffSerializer, **FORBIDDEN})
    def patch(self, request, salon_id: int, staff_id: int):
        staff = _staff(salon_id, staff_id)
        data = StaffUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        staff = services.staff_update(user=request.user, staff=staff, **data.validated_data)
        return Response(StaffSerializer(staff).data)


class WorkingHoursListApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=WorkingHoursSerializer(many=True))
    def get(self, request, salon_id: int, staff_id: int):
        hours = selectors.working_hours_list(_staff(salon_id, staff_id))
        return Response(WorkingHoursSerializer(hours, many=True).data)

    @extend_schema(
        request=WorkingHoursInputSerializer, responses={201: WorkingHoursSerializer, **FORBIDDEN}
    )
    def post(self, request, salon_id: int, staff_id: int):
        staff = _staff(salon_id, staff_id)
        data = WorkingHoursInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hours = services.working_hours_create(user=request.user, staff=staff, **data.validated_data)
        return Response(WorkingHoursSerializer(hours).data, status=status.HTTP_201_CREATED)


class WorkingHoursDetailApi(APIView):
    @extend_schema(responses=NO_CONTENT)
    def delete(self, request, salon_id: int, staff_id: int, pk: int):
        staff = _staff(salon_id, staff_id)
        hours = get_or_404(selectors.working_hours_list(staff).filter(pk=pk).first())
        services.working_hours_delete(user=request.user, hours=hours)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TimeOffListApi(APIView):
    @extend_schema(responses={200: TimeOffSerializer(many=True), **FORBIDDEN})
    def get(self, request, salon_id: int, staff_id: int):
        staff = _staff(salon_id, staff_id)
        if not can_edit_staff_schedule(request.user, staff):
            raise PermissionDenied
        return Response(TimeOffSerializer(selectors.time_off_list(staff), many=True).data)

    @extend_schema(request=TimeOffInputSerializer, responses={201: TimeOffSerializer, **FORBIDDEN})
    def post(self, request, salon_id: int, staff_id: int):
        staff = _staff(salon_id, staff_id)
        data = TimeOffInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        time_off = services.time_off_create(user=request.user, staff=staff, **data.validated_data)
        return Response(TimeOffSerializer(time_off).data, status=status.HTTP_201_CREATED)


class TimeOffDetailApi(APIView):
    @extend_schema(responses=NO_CONTENT)
    def delete(self, request, salon_id: int, staff_id: int, pk: int):
        staff = _staff(salon_id, staff_id)
        time_off = get_or_404(selectors.time_off_list(staff).filter(pk=pk).first())
        services.time_off_delete(user=request.user, time_off=time_off)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServiceListApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=ServiceSerializer(many=True))
    def get(self, request, salon_id: int):
        return Response(ServiceSerializer(selectors.service_list(_salon(salon_id)), many=True).data)

    @extend_schema(request=ServiceInputSerializer, responses={201: ServiceSerializer, **FORBIDDEN})
    def post(self, request, salon_id: int):
        salon = _salon(salon_id)
        data = ServiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = services.service_create(user=request.user, salon=salon, **data.validated_data)
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailApi(APIView):
    permission_classes = [ReadAnyWriteAuthenticated]

    @extend_schema(responses=ServiceSerializer)
    def get(self, request, salon_id: int, service_id: int):
        service = get_or_404(selectors.service_get(_salon(salon_id), service_id))
        return Response(ServiceSerializer(service).data)

    @extend_schema(
        request=ServiceInputSerializer(partial=True),
        responses={200: ServiceSerializer, **FORBIDDEN},
    )
    def patch(self, request, salon_id: int, service_id: int):
        service = get_or_404(selectors.service_get(_salon(salon_id), service_id))
        data = ServiceInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        service = services.service_update(user=request.user, service=service, **data.validated_data)
        return Response(ServiceSerializer(service).data)


class AvailabilityApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("service", OpenApiTypes.INT, required=True),
            OpenApiParameter(
                "date", OpenApiTypes.DATE, required=True, description="Salon-local date"
            ),
            OpenApiParameter("staff", OpenApiTypes.INT, required=False),
        ],
        responses=SlotSerializer(many=True),
    )
    def get(self, request, salon_id: int):
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        service_id = query.validated_data["service"]

        def resolve() -> tuple[Salon, Service]:
            salon = _salon(salon_id)
            service = selectors.service_get(salon, service_id)
            if service is None or not service.is_active:
                raise serializers.ValidationError({"service": "This salon offers no such service."})
            return salon, service

        lookup = AvailabilityCacheLookup(
            salon_id=salon_id,
            service_id=service_id,
            day=query.validated_data["date"],
            staff_id=query.validated_data.get("staff"),
        )
        response = Response(availability_cached(lookup=lookup, resolve=resolve))
        # hit / miss / off / error: what the cache did for this answer (the benchmark counts it).
        response["X-Availability-Cache"] = lookup.status
        return response
