"""The aiohttp application: route table (every operation, plus the AutoRAG aliases)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from .api import instances, items, jobs, legacy, namespaces, search, tokens
from .config import EmulatorConfig
from .faults import FaultInjector
from .indexer import Indexer
from .jobs import JobManager
from .middleware import MIDDLEWARES
from .retrieval import Retriever
from .state import STATE, EmulatorState
from .store import DEFAULT_NAMESPACE, Database, NamespaceRow, Store
from .vectors import Scorer, make_scorer
from .wire import now_iso, ray_id
from .workers import SearchWorkers

API = "/client/v4/accounts/{account_id}/ai-search"
NAMESPACE = API + "/namespaces/{name}"
#: The AutoRAG API's paths: instances of the default namespace, old shapes.
AUTORAG = "/client/v4/accounts/{account_id}/autorag/rags/{id}"
_TOKEN_KEY = "api_token"
_SCORER_KEY = "vector_scorer"


def _routes() -> list[web.RouteDef]:
    table: list[web.RouteDef] = []
    # Instance routes exist twice: deprecated top-level paths act on "default".
    for base in (API, NAMESPACE):
        instance = base + "/instances/{id}"
        table += [
            web.post(base + "/instances", instances.create),
            web.get(base + "/instances", instances.list_),
            web.get(instance, instances.read),
            web.put(instance, instances.update),
            web.delete(instance, instances.delete),
            web.get(instance + "/stats", instances.stats),
            web.post(instance + "/search", search.search),
            web.post(instance + "/chat/completions", search.chat_completions),
            web.post(instance + "/jobs", jobs.create),
            web.get(instance + "/jobs", jobs.list_),
            web.get(instance + "/jobs/{job_id}", jobs.get),
            web.get(instance + "/jobs/{job_id}/logs", jobs.logs),
        ]
    instance = NAMESPACE + "/instances/{id}"
    item = instance + "/items/{item_id}"
    table += [
        web.patch(instance + "/jobs/{job_id}", jobs.cancel),
        web.get(instance + "/items", items.list_),
        web.post(instance + "/items", items.upload),
        web.put(instance + "/items", items.create_or_update),
        web.get(item, items.get),
        web.patch(item, items.sync),
        web.delete(item, items.delete),
        web.get(item + "/download", items.download),
        web.get(item + "/logs", items.logs),
        web.get(item + "/chunks", items.chunks),
        web.post(API + "/namespaces", namespaces.create),
        web.get(API + "/namespaces", namespaces.list_),
        web.get(NAMESPACE, namespaces.read),
        web.put(NAMESPACE, namespaces.update),
        web.delete(NAMESPACE, namespaces.delete),
        web.post(NAMESPACE + "/search", search.namespace_search),
        web.post(NAMESPACE + "/chat/completions", search.namespace_chat_completions),
        web.post(API + "/tokens", tokens.create),
        web.get(API + "/tokens", tokens.list_),
        web.get(API + "/tokens/{id}", tokens.read),
        web.put(API + "/tokens/{id}", tokens.update),
        web.delete(API + "/tokens/{id}", tokens.delete),
        web.post(AUTORAG + "/search", legacy.search),
        web.post(AUTORAG + "/ai-search", legacy.ai_search),
        web.patch(AUTORAG + "/sync", legacy.sync),
        web.get(AUTORAG + "/jobs", jobs.list_),
        web.get(AUTORAG + "/jobs/{job_id}", jobs.get),
        web.get(AUTORAG + "/jobs/{job_id}/logs", jobs.logs),
    ]
    return table


def _prepare_store(db: Database, explicit_token: str | None, scorer: str) -> tuple[str, list[int]]:
    """Create the default namespace, settle the API token and the vector format.

    Returns the token and the items to index again: stored vectors of another
    scorer (or of the old JSON format) cannot be compared with new ones.
    """
    requeued: list[int] = []
    if db.get_meta(_SCORER_KEY) != scorer:
        for instance in db.list_instances():
            tokenizer = (instance.config["indexing_options"] or {}).get(
                "keyword_tokenizer", "porter"
            )
            requeued += db.reset_index(instance.pk, tokenizer)
        db.set_meta(_SCORER_KEY, scorer)
    if db.get_namespace(DEFAULT_NAMESPACE) is None:
        db.save_namespace(NamespaceRow(DEFAULT_NAMESPACE, None, None, None, now_iso()))
    token = explicit_token or db.get_meta(_TOKEN_KEY)
    if token is None:
        token = secrets.token_urlsafe(30)
    if explicit_token is None:
        # A generated token survives restarts of a persistent emulator.
        db.set_meta(_TOKEN_KEY, token)
    return token, requeued


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    async with contextlib.AsyncExitStack() as stack:
        await state.store.open()
        stack.push_async_callback(state.store.close)
        state.api_token, _ = await state.store.run(
            _prepare_store, state.config.api_token, state.retriever.scorer.name
        )
        if state.config.search_processes > 0:
            scorer = "semantic" if state.retriever.scorer.name != "lexical" else "lexical"
            workers = SearchWorkers(state.config.search_processes, state.store.path, scorer)
            stack.push_async_callback(workers.stop)
            await workers.start()
            state.search_workers = workers
        # Re-queued items are still 'queued' in the database: start() picks them up.
        await state.indexer.start()
        stack.push_async_callback(state.indexer.stop)
        await state.jobs.start()
        stack.push_async_callback(state.jobs.stop)
        yield


async def _stamp(request: web.Request, response: web.StreamResponse) -> None:
    # Every response, streamed or not, carries a ray id like Cloudflare's edge.
    response.headers["cf-ray"] = ray_id()


def create_app(
    config: EmulatorConfig | None = None, *, faults: FaultInjector | None = None
) -> web.Application:
    """Build the emulator application; storage opens when the app starts."""
    config = config or EmulatorConfig()
    store = Store(config.data_dir)
    scorer: Scorer = make_scorer(config.scorer)
    indexer = Indexer(store, config.index_delay, scorer)
    state = EmulatorState(
        config=config,
        store=store,
        faults=faults or FaultInjector(config.faults),
        indexer=indexer,
        jobs=JobManager(store, indexer, config),
        retriever=Retriever(store.generation, scorer),
    )
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=config.max_request_bytes)
    app[STATE] = state
    app.add_routes(_routes())
    app.on_response_prepare.append(_stamp)
    app.cleanup_ctx.append(_lifecycle)
    return app
