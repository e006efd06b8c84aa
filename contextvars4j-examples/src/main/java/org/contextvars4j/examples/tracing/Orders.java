package org.contextvars4j.examples.tracing;

import static org.contextvars4j.examples.tracing.RequestVars.REQUEST;
import static org.contextvars4j.examples.tracing.RequestVars.TENANT;

import com.sun.net.httpserver.HttpExchange;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.concurrent.ContextFutures;

/**
 * Service A: sets the request's number and tenant in {@code ContextVar}s, reads them with the
 * trace and the baggage in a task of a wrapped pool and in each stage of a {@code ContextFutures}
 * chain, whose last stage calls {@link Stock}; answers with what each place saw and with Stock's
 * answer. No propagation code.
 */
final class Orders implements Instrumentation.Handler {
  private final Instrumentation http;
  private final URI stock;
  private final ExecutorService pool;

  /** @param pool a pool wrapped by {@code ContextExecutors} */
  Orders(Instrumentation http, URI stock, ExecutorService pool) {
    this.http = http;
    this.stock = stock;
    this.pool = pool;
  }

  /** What the code running here sees: request, tenant, trace id and baggage user. */
  static String sees() {
    return REQUEST.getOrDefault("(unbound)")
        + "/"
        + TENANT.getOrDefault("(unbound)")
        + "/"
        + Span.current().getSpanContext().getTraceId()
        + "/"
        + Baggage.current().getEntryValue("user");
  }

  @Override
  public Map<String, String> handle(HttpExchange exchange) throws Exception {
    Map<String, String> query = query(exchange.getRequestURI());
    REQUEST.set(query.get("request"));
    TENANT.set(query.get("tenant"));

    Map<String, String> seen = new LinkedHashMap<>();
    seen.put("orders.handler", sees());
    seen.put("orders.pool", pool.submit(Orders::sees).get(10, TimeUnit.SECONDS));
    Map<String, String> answer =
        ContextFutures.supplyAsync(Orders::sees, pool)
            .thenApply(async -> async + "|" + sees())
            .thenApplyAsync(
                chain -> {
                  Map<String, String> stockSaw = callStock();
                  stockSaw.put("orders.chain", chain + "|" + sees());
                  return stockSaw;
                },
                pool)
            .get(10, TimeUnit.SECONDS);
    seen.putAll(answer);
    return seen;
  }

  private Map<String, String> callStock() {
    try {
      return http.call(stock);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(e);
    }
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> query = new LinkedHashMap<>();
    String raw = uri.getRawQuery();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          query.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
      }
    }
    return query;
  }
}
