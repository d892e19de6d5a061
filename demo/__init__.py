"""The embedded demo: a legacy web app, sample documents and the script that makes them."""
