"""The service's /docs page (Swagger UI) served from this machine.

FastAPI's own /docs loads Swagger UI from a CDN, so on a machine that
reaches no CDN (a private network, this project's test machines) the page
stays blank. Here the files come from the npm package swagger-ui-dist,
installed next to this file (examples/service/node_modules, by
scripts/setup or `npm install` in examples/service). Without them /docs
says what to install and where the OpenAPI document is, instead of a
blank page; nothing is ever fetched from elsewhere.
"""
import json
import os

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "node_modules", "swagger-ui-dist")
STATIC = "/docs/static"


def wanted_version():
    """The swagger-ui-dist version package.json pins."""
    with open(os.path.join(HERE, "package.json")) as f:
        return json.load(f)["dependencies"]["swagger-ui-dist"]


def assets_present(path=ASSETS):
    return all(os.path.isfile(os.path.join(path, f)) for f in ("swagger-ui-bundle.js", "swagger-ui.css"))


def install(app: FastAPI, title: str, path: str = ASSETS) -> bool:
    """Add GET /docs to app (created with docs_url=None); True when the
    Swagger UI files were found and are served from STATIC."""
    if assets_present(path):
        app.mount(STATIC, StaticFiles(directory=path), name="swagger-ui")

        @app.get("/docs", include_in_schema=False)
        async def docs():
            return get_swagger_ui_html(openapi_url=app.openapi_url, title=title + " - API",
                                       swagger_js_url=STATIC + "/swagger-ui-bundle.js",
                                       swagger_css_url=STATIC + "/swagger-ui.css",
                                       swagger_favicon_url="/favicon.ico")
        return True

    @app.get("/docs", include_in_schema=False)
    async def docs_missing():
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>%s - API</title>"
            "<p>The API page needs Swagger UI's files (npm package swagger-ui-dist %s), which are "
            "not installed: run <code>scripts/setup</code>, or <code>npm install</code> in "
            "examples/service.</p><p>The API itself is described in <a href=\"%s\">%s</a>.</p>"
            % (title, wanted_version(), app.openapi_url, app.openapi_url))
    return False
