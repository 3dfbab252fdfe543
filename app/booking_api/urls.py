from appointment import apis as appointment_apis
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from flag import apis as flag_apis
from salon import apis as salon_apis
from user import apis as user_apis

salon_patterns = [
    path("", salon_apis.SalonListApi.as_view(), name="salon-list"),
    path("<int:salon_id>/", salon_apis.SalonDetailApi.as_view(), name="salon-detail"),
    path(
        "<int:salon_id>/availability",
        salon_apis.AvailabilityApi.as_view(),
        name="salon-availability",
    ),
    path(
        "<int:salon_id>/opening-hours/",
        salon_apis.OpeningHoursListApi.as_view(),
        name="opening-hours-list",
    ),
    path(
        "<int:salon_id>/opening-hours/<int:pk>/",
        salon_apis.OpeningHoursDetailApi.as_view(),
        name="opening-hours-detail",
    ),
    path("<int:salon_id>/closures/", salon_apis.ClosureListApi.as_view(), name="closure-list"),
    path(
        "<int:salon_id>/closures/<int:pk>/",
        salon_apis.ClosureDetailApi.as_view(),
        name="closure-detail",
    ),
    path("<int:salon_id>/staff/", salon_apis.StaffListApi.as_view(), name="staff-list"),
    path(
        "<int:salon_id>/staff/<int:staff_id>/",
        salon_apis.StaffDetailApi.as_view(),
        name="staff-detail",
    ),
    path(
        "<int:salon_id>/staff/<int:staff_id>/working-hours/",
        salon_apis.WorkingHoursListApi.as_view(),
        name="working-hours-list",
    ),
    path(
        "<int:salon_id>/staff/<int:staff_id>/working-hours/<int:pk>/",
        salon_apis.WorkingHoursDetailApi.as_view(),
        name="working-hours-detail",
    ),
    path(
        "<int:salon_id>/staff/<int:staff_id>/time-off/",
        salon_apis.TimeOffListApi.as_view(),
        name="time-off-list",
    ),
    path(
        "<int:salon_id>/staff/<int:staff_id>/time-off/<int:pk>/",
        salon_apis.TimeOffDetailApi.as_view(),
        name="time-off-detail",
    ),
    path("<int:salon_id>/services/", salon_apis.ServiceListApi.as_view(), name="service-list"),
    path(
        "<int:salon_id>/services/<int:service_id>/",
        salon_apis.ServiceDetailApi.as_view(),
        name="service-detail",
    ),
]

appointment_patterns = [
    path("", appointment_apis.AppointmentListApi.as_view(), name="appointment-list"),
    path(
        "<int:appointment_id>/",
        appointment_apis.AppointmentDetailApi.as_view(),
        name="appointment-detail",
    ),
    path(
        "<int:appointment_id>/cancel/",
        appointment_apis.AppointmentCancelApi.as_view(),
        name="appointment-cancel",
    ),
    path(
        "<int:appointment_id>/reschedule/",
        appointment_apis.AppointmentRescheduleApi.as_view(),
        name="appointment-reschedule",
    ),
    path(
        "<int:appointment_id>/complete/",
        appointment_apis.AppointmentCompleteApi.as_view(),
        name="appointment-complete",
    ),
    path(
        "<int:appointment_id>/no-show/",
        appointment_apis.AppointmentNoShowApi.as_view(),
        name="appointment-no-show",
    ),
]

me_patterns = [
    path("", user_apis.MeApi.as_view(), name="me"),
    path("phone/", user_apis.PhoneVerificationStartApi.as_view(), name="me-phone"),
    path(
        "phone/confirm/", user_apis.PhoneVerificationConfirmApi.as_view(), name="me-phone-confirm"
    ),
]

flag_admin_patterns = [
    path("", flag_apis.FlagListApi.as_view(), name="flag-admin-list"),
    path("<str:name>/", flag_apis.FlagDetailApi.as_view(), name="flag-admin-detail"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/salons/", include(salon_patterns)),
    path("api/appointments/", include(appointment_patterns)),
    path("api/me/", include(me_patterns)),
    path("api/flags/", flag_apis.FlagStatesApi.as_view(), name="flags"),
    path("api/admin/flags/", include(flag_admin_patterns)),
]
