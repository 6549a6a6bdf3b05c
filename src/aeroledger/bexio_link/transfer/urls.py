app_name = "bexio_transfer"

urlpatterns: list = []
