app_name = "bexio_connection"

urlpatterns: list = []
