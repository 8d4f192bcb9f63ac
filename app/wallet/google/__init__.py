"""Google Wallet: loyalty classes and objects, save links, the REST client and callbacks."""
