app_name = "transparency"

urlpatterns = []
