app_name = "bexio_masterdata"

urlpatterns: list = []
