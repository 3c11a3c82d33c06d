"""Attribution: indicators to the organisations and assets that own them."""
