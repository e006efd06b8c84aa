package org.contextvars4j.examples.tracing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.contextvars4j.opentelemetry.BaggageVars;
import org.jspecify.annotations.Nullable;

/**
 * What an HTTP server's and an HTTP client's OpenTelemetry instrumentation does, for the JDK's
 * {@code HttpServer} and {@code HttpClient}: extract the incoming {@code traceparent} and {@code
 * baggage} headers, start a server span and make it current around the handler; start a client
 * span around an outgoing call and inject the headers. The handlers ({@link Orders}, {@link
 * Stock}) hold no propagation code: they set and read {@code ContextVar}s, spans and baggage.
 *
 * <p>The header formats are OpenTelemetry's own propagators': {@code W3CTraceContextPropagator},
 * and {@code BaggageVars.propagator()}, which is {@code W3CBaggagePropagator} with the declared
 * variables as entries.
 */
final class Instrumentation {
  static final TextMapPropagator PROPAGATOR =
      TextMapPropagator.composite(
          W3CTraceContextPropagator.getInstance(), BaggageVars.propagator());

  private static final TextMapGetter<HttpExchange> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpExchange exchange) {
          return exchange.getRequestHeaders().keySet();
        }

        @Override
        public @Nullable String get(@Nullable HttpExchange exchange, String key) {
          return exchange == null ? null : exchange.getRequestHeaders().getFirst(key);
        }
      };

  private final Tracer tracer;
  private final HttpClient client;

  Instrumentation(Tracer tracer, HttpClient client) {
    this.tracer = tracer;
    this.client = client;
  }

  /** A handler's answer: a status and a body of {@code key=value} lines. */
  interface Handler {
    Map<String, String> handle(HttpExchange exchange) throws Exception;
  }

  /**
   * Starts a server on a loopback port whose exchanges run on {@code executor} (a wrapped pool:
   * each exchange in a fresh copy of the dispatcher's empty context), each in a server span.
   */
  HttpServer serve(String path, Handler handler, ExecutorService executor) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    server.createContext(path, traced(path, handler));
    server.setExecutor(executor);
    server.start();
    return server;
  }

  private HttpHandler traced(String path, Handler handler) {
    return exchange -> {
      Context received = PROPAGATOR.extract(Context.current(), exchange, HEADERS);
      Span span =
          tracer
              .spanBuilder(exchange.getRequestMethod() + " " + path)
              .setParent(received)
              .setSpanKind(SpanKind.SERVER)
              .startSpan();
      int status = 200;
      String body;
      try (Scope ignored = received.with(span).makeCurrent()) {
        body = format(handler.handle(exchange));
      } catch (Exception e) {
        span.setStatus(StatusCode.ERROR).recordException(e);
        status = 500;
        body = "error=" + e + "\n";
      } finally {
        span.end();
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    };
  }

  /** Calls {@code uri} in a client span, with the current trace and baggage in the headers. */
  Map<String, String> call(URI uri) throws IOException, InterruptedException {
    Span span = tracer.spanBuilder("GET " + uri.getPath()).setSpanKind(SpanKind.CLIENT).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET();
      PROPAGATOR.inject(Context.current(), request, HttpRequest.Builder::header);
      HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException(uri + " answered " + response.statusCode() + ": " + response.body());
      }
      Map<String, String> answer = parse(response.body());
      answer.put("orders.client-span", span.getSpanContext().getSpanId());
      return answer;
    } finally {
      span.end();
    }
  }

  static String format(Map<String, String> answer) {
    StringBuilder body = new StringBuilder();
    answer.forEach((key, value) -> body.append(key).append('=').append(value).append('\n'));
    return body.toString();
  }

  static Map<String, String> parse(String body) {
    Map<String, String> answer = new java.util.LinkedHashMap<>();
    for (String line : List.of(body.split("\n"))) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        answer.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return answer;
  }
}
