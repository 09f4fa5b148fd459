"""acme2certifier over HTTPS on 127.0.0.1:PORT (argv[1]), with the acme_srv.cfg, tls/ and ca/
of the current folder. Python's WSGI server, because acme2certifier's bundled launcher binds
every interface; requests are logged to stderr."""
import os
import ssl
import sys

os.environ["ACME_SRV_CONFIGFILE"] = os.path.abspath("acme_srv.cfg")
os.environ["ACME2CERTIFIER_BASE_DIR"] = os.path.abspath(".")
# acme_srv.cfg turns challenge validation off (there is no DNS here): a test switch.
os.environ["ACME2CERTIFIER_I_KNOW_THE_RISK"] = "1"

from wsgiref.simple_server import WSGIRequestHandler, make_server  # noqa: E402

from acme2certifier.share import acme2certifier_wsgi as app  # noqa: E402


class Handler(WSGIRequestHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ["HTTPS"] = "on"  # so the directory names https:// URLs
        return environ


server = make_server("127.0.0.1", int(sys.argv[1]), app.application, handler_class=Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("tls/tls.pem", "tls/tls.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
