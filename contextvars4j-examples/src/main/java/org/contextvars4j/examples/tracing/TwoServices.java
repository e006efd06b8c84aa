package org.contextvars4j.examples.tracing;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.concurrent.ContextExecutors;

/**
 * Starts {@link Orders} and {@link Stock} on loopback ports and sends {@code requests} requests
 * to Orders, {@code concurrency} at a time, each with a trace of its own ({@code traceparent}), a
 * baggage entry ({@code user}) and a tenant, then checks every answer and every span: what each
 * place in each service saw must be its own request's, and Stock's span must be the child of
 * Orders' client span. Prints the count of mismatches (0 is the only right answer) and one
 * request as each service saw it.
 *
 * <p>{@code bin/demo tracing [requests [concurrency]]}: 2,000 requests, 500 at a time, by
 * default. Loopback only; every wait is bounded; every thread it starts is stopped at the end.
 *
 * @since 0.1
 */
public final class TwoServices {
  private TwoServices() {}

  /**
   * What a run found.
   *
   * @param requests the requests sent
   * @param concurrency how many were in flight at most
   * @param checks the values and parent spans compared
   * @param mismatches a description of each value or span that was not its request's
   * @param took the time from the first request to the last answer
   * @param sample one request as each service saw it, for the report
   */
  record Run(
      int requests,
      int concurrency,
      long checks,
      List<String> mismatches,
      Duration took,
      String sample) {}

  /**
   * Runs the example and prints its report; exits with status 1 if anything mismatched.
   *
   * @param args optionally the number of requests, then the concurrency
   * @throws Exception if the services cannot start or a request fails
   */
  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    long seed = Long.getLong("cv4j.seed", System.nanoTime());
    Run run = run(requests, concurrency, seed, System.out);
    if (!run.mismatches().isEmpty()) {
      System.exit(1);
    }
  }

  static Run run(int requests, int concurrency, long seed, PrintStream out) throws Exception {
    if (requests < 1 || concurrency < 1) {
      throw new IllegalArgumentException(
          "requests and concurrency must be at least 1, were " + requests + " and " + concurrency);
    }
    SpanCollector exported = new SpanCollector();
    SdkTracerProvider tracing =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build();
    HttpClient ordersClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpClient load = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    // Every pool is wrapped: each exchange and each task runs in a copy of the context that
    // handed it over; the servers' dispatcher threads hand over an empty one.
    ExecutorService stockThreads = ContextExecutors.wrap(Executors.newFixedThreadPool(8));
    ExecutorService virtualThreads = ContextExecutors.newVirtualThreadPerTaskExecutor();
    ExecutorService ordersThreads = ContextExecutors.wrap(Executors.newFixedThreadPool(32));
    ExecutorService ordersPool = ContextExecutors.wrap(Executors.newFixedThreadPool(8));
    HttpServer stock = null;
    HttpServer orders = null;
    try {
      Instrumentation http = new Instrumentation(tracing.get("contextvars4j-examples"), ordersClient);
      stock = http.serve("/stock", new Stock(virtualThreads), stockThreads);
      URI stockUri = URI.create("http://127.0.0.1:" + stock.getAddress().getPort() + "/stock");
      orders = http.serve("/orders", new Orders(http, stockUri, ordersPool), ordersThreads);
      String ordersUri = "http://127.0.0.1:" + orders.getAddress().getPort() + "/orders";
      out.printf(
          "Two services on loopback: orders (port %d) calls stock (port %d), through OpenTelemetry's"
              + " W3C trace-context and baggage propagators; TENANT is a ContextVar declared with"
              + " BaggageVars.%n%d requests, %d at a time (seed %d, replay with -Dcv4j.seed=%d)%n",
          orders.getAddress().getPort(),
          stock.getAddress().getPort(),
          requests,
          concurrency,
          seed,
          seed);

      Random random = new Random(seed);
      List<Sent> sent = new ArrayList<>(requests);
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>(requests);
      Semaphore inFlight = new Semaphore(concurrency);
      long start = System.nanoTime();
      for (int i = 0; i < requests; i++) {
        Sent request = Sent.random(i, random);
        sent.add(request);
        if (!inFlight.tryAcquire(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no answer came back for 60 s: " + concurrency + " in flight");
        }
        HttpRequest http1 =
            HttpRequest.newBuilder(URI.create(ordersUri + "?request=" + i + "&tenant=" + request.tenant))
                .header("traceparent", "00-" + request.traceId + "-" + request.parentId + "-01")
                .header("baggage", "user=" + request.user)
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build();
        answers.add(
            load.sendAsync(http1, HttpResponse.BodyHandlers.ofString())
                .whenComplete((answer, failure) -> inFlight.release()));
      }
      CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      List<String> mismatches = new ArrayList<>();
      long checks = 0;
      Map<String, String> first = null;
      for (int i = 0; i < requests; i++) {
        HttpResponse<String> response = answers.get(i).join();
        Map<String, String> saw = Instrumentation.parse(response.body());
        Sent request = sent.get(i);
        checks++;
        if (response.statusCode() != 200) {
          mismatches.add("request " + i + ": status " + response.statusCode() + ": " + response.body());
          continue;
        }
        String here = i + "/" + request.tenant + "/" + request.traceId + "/" + request.user;
        String remote = "(unbound)/" + request.tenant + "/" + request.traceId + "/" + request.user;
        Map<String, String> expected = new HashMap<>();
        expected.put("orders.handler", here);
        expected.put("orders.pool", here);
        expected.put("orders.chain", here + "|" + here + "|" + here);
        expected.put("stock.trace", request.traceId);
        expected.put("stock.parent", saw.get("orders.client-span"));
        expected.put("stock.user", request.user);
        expected.put("stock.tenant", request.tenant);
        // REQUEST is not declared: it stays in orders; TENANT crosses.
        expected.put("stock.virtual-thread", remote);
        for (Map.Entry<String, String> check : expected.entrySet()) {
          checks++;
          String value = saw.get(check.getKey());
          if (value == null || !value.equals(check.getValue())) {
            mismatches.add(
                "request " + i + ": " + check.getKey() + " was " + value + ", not " + check.getValue());
          }
        }
        if (first == null) {
          first = saw;
        }
      }
      checks += checkSpans(exported.spans(), sent, mismatches);

      out.printf(
          "%d requests, %d checks of values and parent spans: %d mismatches, in %d ms%n",
          requests, checks, mismatches.size(), took.toMillis());
      mismatches.stream().limit(20).forEach(m -> out.println("  MISMATCH " + m));
      String sample = sample(sent.get(0), Objects.requireNonNull(first, "no answer"));
      out.print(sample);
      return new Run(requests, concurrency, checks, List.copyOf(mismatches), took, sample);
    } finally {
      if (orders != null) {
        orders.stop(0);
      }
      if (stock != null) {
        stock.stop(0);
      }
      for (ExecutorService pool : List.of(ordersThreads, ordersPool, stockThreads, virtualThreads)) {
        pool.shutdownNow();
        if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
          out.println("a pool did not stop in 10 s: " + pool);
        }
      }
      load.close();
      ordersClient.close();
      tracing.close();
    }
  }

  /**
   * Each request's trace holds three spans: orders' server span, child of the caller's span in
   * the {@code traceparent}; orders' client span, its child; stock's server span, the client
   * span's child. Returns the number of parent links checked.
   */
  private static long checkSpans(List<SpanData> spans, List<Sent> sent, List<String> mismatches) {
    Map<String, List<SpanData>> byTrace = new HashMap<>();
    for (SpanData span : spans) {
      byTrace.computeIfAbsent(span.getTraceId(), t -> new ArrayList<>()).add(span);
    }
    long checks = 0;
    for (Sent request : sent) {
      List<SpanData> trace = byTrace.getOrDefault(request.traceId, List.of());
      SpanData ordersServer = find(trace, "POST /orders", SpanKind.SERVER);
      SpanData client = find(trace, "GET /stock", SpanKind.CLIENT);
      SpanData stockServer = find(trace, "GET /stock", SpanKind.SERVER);
      checks += 4;
      if (trace.size() != 3 || ordersServer == null || client == null || stockServer == null) {
        mismatches.add("request " + request.number + ": its trace holds " + names(trace));
        continue;
      }
      link(request, ordersServer, request.parentId, mismatches);
      link(request, client, ordersServer.getSpanId(), mismatches);
      link(request, stockServer, client.getSpanId(), mismatches);
    }
    return checks;
  }

  private static SpanData find(List<SpanData> trace, String name, SpanKind kind) {
    for (SpanData span : trace) {
      if (span.getName().equals(name) && span.getKind() == kind) {
        return span;
      }
    }
    return null;
  }

  private static List<String> names(List<SpanData> trace) {
    return trace.stream().map(span -> span.getKind() + " " + span.getName()).toList();
  }

  private static void link(Sent request, SpanData span, String parent, List<String> mismatches) {
    if (!span.getParentSpanId().equals(parent)) {
      mismatches.add(
          "request " + request.number + ": the parent of " + span.getKind() + " " + span.getName()
              + " is " + span.getParentSpanId() + ", not " + parent);
    }
  }

  private static String sample(Sent request, Map<String, String> saw) {
    return String.format(
        "One request as each service saw it:%n"
            + "  sent      traceparent 00-%s-%s-01, baggage user=%s, ?tenant=%s%n"
            + "  orders    in the handler, a pool task, each stage of a ContextFutures chain"
            + " (request/tenant/trace/user):%n"
            + "              %s%n              %s%n              %s%n"
            + "  stock     trace %s, parent span %s (orders' client span %s)%n"
            + "            baggage user=%s, TENANT.get()=%s%n"
            + "            on a virtual thread: %s (REQUEST is orders' own: not declared, it does"
            + " not cross)%n",
        request.traceId,
        request.parentId,
        request.user,
        request.tenant,
        saw.get("orders.handler"),
        saw.get("orders.pool"),
        saw.get("orders.chain"),
        saw.get("stock.trace"),
        saw.get("stock.parent"),
        saw.get("orders.client-span"),
        saw.get("stock.user"),
        saw.get("stock.tenant"),
        saw.get("stock.virtual-thread"));
  }

  /** What the load generator sent as one request. */
  private record Sent(int number, String traceId, String parentId, String user, String tenant) {
    static Sent random(int number, Random random) {
      byte[] trace = new byte[16];
      byte[] parent = new byte[8];
      random.nextBytes(trace);
      random.nextBytes(parent);
      trace[0] |= 1; // never all zeros, which W3C trace context forbids
      parent[0] |= 1;
      HexFormat hex = HexFormat.of();
      return new Sent(
          number,
          hex.formatHex(trace),
          hex.formatHex(parent),
          "u" + random.nextInt(1_000_000),
          "t" + random.nextInt(50));
    }
  }
}
