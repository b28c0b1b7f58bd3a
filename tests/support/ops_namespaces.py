"""The namespaces operations as table rows: each call, its exact request and the mocked answer."""

from __future__ import annotations

from cfaisearch.types import (
    ChatCompletion,
    Instance,
    InstanceListItem,
    InstanceStats,
    Namespace,
    NamespaceChatCompletion,
    NamespaceSearchResult,
    SearchResult,
)
from tests.support.ops import Op, envelope, fixture, strict
from tests.support.ops_instances import CREATE_ARGS, CREATE_BODY, MESSAGES, UPDATE_ARGS, UPDATE_BODY

NAMESPACE = fixture("namespace")
INSTANCE = fixture("instance")
NS_OPTIONS = {"instance_ids": ["docs-search", "blog"], "retrieval": {"max_num_results": 5}}
ENDPOINT = {"enabled": True, "instances_allowed": ["docs-search"], "custom_domains": None}
INFO = {"page": 1, "per_page": 10, "count": 1, "total_count": 1}
NS = "/namespaces/production"

OPS = [
    Op(
        "namespaces.create",
        lambda ai: ai.namespaces.create(
            name="production", description="Production", public_endpoint_params=ENDPOINT
        ),
        "POST",
        "/namespaces",
        envelope(NAMESPACE),
        strict("namespace", Namespace),
        body={
            "name": "production",
            "description": "Production",
            "public_endpoint_params": ENDPOINT,
        },
    ),
    Op(
        "namespaces.update",
        lambda ai: ai.namespaces.update(
            "production", description=None, public_endpoint_params=None
        ),
        "PUT",
        NS,
        envelope(NAMESPACE),
        strict("namespace", Namespace),
        body={"description": None, "public_endpoint_params": None},
        retried=True,
    ),
    Op(
        "namespaces.list",
        lambda ai: ai.namespaces.list(per_page=10, search="prod"),
        "GET",
        "/namespaces",
        envelope([NAMESPACE], result_info=INFO),
        [strict("namespace", Namespace)],
        query={"per_page": "10", "search": "prod"},
        retried=True,
    ),
    Op(
        "namespaces.delete",
        lambda ai: ai.namespaces.delete("production"),
        "DELETE",
        NS,
        envelope(None),
        None,
        retried=True,
    ),
    Op(
        "namespaces.chat_completions",
        lambda ai: ai.namespaces.chat_completions(
            "production", aisearch_options=NS_OPTIONS, messages=MESSAGES, model="openai/gpt-5"
        ),
        "POST",
        f"{NS}/chat/completions",
        fixture("namespace_chat_completion"),
        strict("namespace_chat_completion", NamespaceChatCompletion),
        body={"ai_search_options": NS_OPTIONS, "messages": MESSAGES, "model": "openai/gpt-5"},
        retried=True,
    ),
    Op(
        "namespaces.read",
        lambda ai: ai.namespaces.read("production"),
        "GET",
        NS,
        envelope(NAMESPACE),
        strict("namespace", Namespace),
        retried=True,
    ),
    Op(
        "namespaces.search",
        lambda ai: ai.namespaces.search("production", aisearch_options=NS_OPTIONS, query="q"),
        "POST",
        f"{NS}/search",
        envelope(fixture("namespace_search_result")),
        strict("namespace_search_result", NamespaceSearchResult),
        body={"ai_search_options": NS_OPTIONS, "query": "q"},
        retried=True,
    ),
    Op(
        "namespaces.instances.create",
        lambda ai: ai.namespaces.instances.create("production", id="docs-search", **CREATE_ARGS),
        "POST",
        f"{NS}/instances",
        envelope(INSTANCE),
        strict("instance", Instance),
        body=CREATE_BODY,
    ),
    Op(
        "namespaces.instances.update",
        lambda ai: ai.namespaces.instances.update("docs-search", name="production", **UPDATE_ARGS),
        "PUT",
        f"{NS}/instances/docs-search",
        envelope(INSTANCE),
        strict("instance", Instance),
        body=UPDATE_BODY,
        retried=True,
    ),
    Op(
        "namespaces.instances.list",
        lambda ai: ai.namespaces.instances.list(
            "production",
            hostname="h.example.com",
            namespace="production",
            order_by="created_at",
            order_by_direction="asc",
            page=1,
            per_page=10,
            search="docs",
        ),
        "GET",
        f"{NS}/instances",
        envelope([fixture("instance_list_item")], result_info=INFO),
        [strict("instance_list_item", InstanceListItem)],
        query={
            "hostname": "h.example.com",
            "namespace": "production",
            "order_by": "created_at",
            "order_by_direction": "asc",
            "page": "1",
            "per_page": "10",
            "search": "docs",
        },
        retried=True,
    ),
    Op(
        "namespaces.instances.delete",
        lambda ai: ai.namespaces.instances.delete("docs-search", name="production"),
        "DELETE",
        f"{NS}/instances/docs-search",
        envelope(INSTANCE),
        strict("instance", Instance),
        retried=True,
    ),
    Op(
        "namespaces.instances.chat_completions",
        lambda ai: ai.namespaces.instances.chat_completions(
            "docs-search", name="production", messages=MESSAGES
        ),
        "POST",
        f"{NS}/instances/docs-search/chat/completions",
        fixture("chat_completion"),
        strict("chat_completion", ChatCompletion),
        body={"messages": MESSAGES},
        retried=True,
    ),
    Op(
        "namespaces.instances.read",
        lambda ai: ai.namespaces.instances.read("docs-search", name="production"),
        "GET",
        f"{NS}/instances/docs-search",
        envelope(INSTANCE),
        strict("instance", Instance),
        retried=True,
    ),
    Op(
        "namespaces.instances.search",
        lambda ai: ai.namespaces.instances.search(
            "docs-search",
            name="production",
            messages=MESSAGES,
            aisearch_options={"retrieval": {"max_num_results": 3}},
        ),
        "POST",
        f"{NS}/instances/docs-search/search",
        envelope(fixture("search_result")),
        strict("search_result", SearchResult),
        body={"messages": MESSAGES, "ai_search_options": {"retrieval": {"max_num_results": 3}}},
        retried=True,
    ),
    Op(
        "namespaces.instances.stats",
        lambda ai: ai.namespaces.instances.stats("docs-search", name="production"),
        "GET",
        f"{NS}/instances/docs-search/stats",
        envelope(fixture("instance_stats")),
        strict("instance_stats", InstanceStats),
        retried=True,
    ),
]
