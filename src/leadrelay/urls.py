from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("leadrelay.api.urls")),
    path("f/", include("leadrelay.intake.webform")),
    path("", include("leadrelay.web.urls")),
]
