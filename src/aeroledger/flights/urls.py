app_name = "flights"

urlpatterns: list = []
