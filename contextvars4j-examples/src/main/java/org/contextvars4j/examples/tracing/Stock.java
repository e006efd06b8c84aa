package org.contextvars4j.examples.tracing;

import static org.contextvars4j.examples.tracing.RequestVars.TENANT;

import com.sun.net.httpserver.HttpExchange;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.trace.ReadableSpan;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Service B: answers with what it sees of the request, in its handler and on a virtual thread:
 * the trace, its span's parent (the caller's client span), the baggage, and {@code TENANT.get()},
 * which service A set. No propagation code.
 */
final class Stock implements Instrumentation.Handler {
  private final ExecutorService virtualThreads;

  /** @param virtualThreads a wrapped virtual-thread-per-task executor */
  Stock(ExecutorService virtualThreads) {
    this.virtualThreads = virtualThreads;
  }

  @Override
  public Map<String, String> handle(HttpExchange exchange) throws Exception {
    Map<String, String> seen = new LinkedHashMap<>();
    Span span = Span.current();
    seen.put("stock.trace", span.getSpanContext().getTraceId());
    seen.put("stock.parent", ((ReadableSpan) span).getParentSpanContext().getSpanId());
    seen.put("stock.user", String.valueOf(Baggage.current().getEntryValue("user")));
    seen.put("stock.tenant", TENANT.getOrDefault("(unbound)"));
    seen.put(
        "stock.virtual-thread",
        virtualThreads.submit(Orders::sees).get(10, TimeUnit.SECONDS));
    return seen;
  }
}
