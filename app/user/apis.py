from __future__ import annotations

from booking_api.api import inline_serializer
from booking_api.schema import error_responses
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from user import services
from user.models import User


# Output only: read-only fields are required in the schema (the API always sends them).
class MeSerializer(serializers.ModelSerializer):
    phone_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone", "phone_verified", "role"]
        read_only_fields = fields


class MeUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class PhoneStartSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="E.164, e.g. +4915123456789")


class PhoneConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer)
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(MeSerializer(user).data)


class PhoneVerificationStartApi(APIView):
    @extend_schema(
        request=PhoneStartSerializer,
        responses={
            202: inline_serializer(
                name="PhoneCodeSent", fields={"detail": serializers.CharField()}
            ),
            # A second code within RESEND_INTERVAL (user/services.py).
            **error_responses(429),
        },
    )
    def post(self, request):
        data = PhoneStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.phone_verification_start(user=request.user, phone=data.validated_data["phone"])
        return Response({"detail": "Code sent."}, status=status.HTTP_202_ACCEPTED)


class PhoneVerificationConfirmApi(APIView):
    @extend_schema(request=PhoneConfirmSerializer, responses=MeSerializer)
    def post(self, request):
        data = PhoneConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.phone_verification_confirm(
            user=request.user, code=data.validated_data["code"]
        )
        return Response(MeSerializer(user).data)
