"""What can stand between the clients and the lab server: a real nginx, in named profiles.

`profiles` holds each profile's configuration, short enough to quote; `nginx` starts the real
program in front of a lab server and stops it; `tls` makes the self-signed certificate that
HTTP/2 in a browser needs.
"""
