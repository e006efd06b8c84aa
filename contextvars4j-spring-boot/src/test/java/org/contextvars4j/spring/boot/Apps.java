package org.contextvars4j.spring.boot;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.contextvars4j.ContextVar;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts real applications on a random loopback port and sends them real HTTP requests, with the
 * Spring Boot API that versions 3.5 and 4.0 share.
 */
final class Apps {
  /** The variable the test applications set per request; {@code "-"} where it is not bound. */
  static final ContextVar<String> REQUEST = ContextVar.named("request", "-");

  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private Apps() {}

  static ConfigurableApplicationContext start(
      Class<?> app, WebApplicationType type, String... properties) {
    List<String> all = new ArrayList<>(List.of(
                "server.port=0",
                "server.address=127.0.0.1",
                "spring.main.banner-mode=off",
                "logging.level.root=WARN"));
    all.addAll(List.of(properties));
    return new SpringApplicationBuilder(app)
        .web(type)
        .properties(all.toArray(String[]::new))
        .run();
  }

  static int port(ConfigurableApplicationContext app) {
    return Integer.parseInt(app.getEnvironment().getRequiredProperty("local.server.port"));
  }

  /**
   * Sends {@code count} GET requests, at most {@code concurrency} at a time, and returns the
   * response bodies in request order; any status but 200 fails.
   */
  static List<String> getAll(int port, int count, int concurrency, IntFunction<String> pathOf)
      throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    try (client) {
      Semaphore inFlight = new Semaphore(concurrency);
      List<CompletableFuture<String>> responses = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        if (!inFlight.tryAcquire(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          throw new AssertionError("no response within " + TIMEOUT);
        }
        HttpRequest request =
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathOf.apply(i)))
                .timeout(TIMEOUT)
                .build();
        String path = pathOf.apply(i);
        responses.add(
            client
                .sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .whenComplete((r, e) -> inFlight.release())
                .thenApply(
                    r -> {
                      if (r.statusCode() != 200) {
                        throw new AssertionError(path + ": status " + r.statusCode() + " " + r.body());
                      }
                      return r.body();
                    }));
      }
      List<String> bodies = new ArrayList<>();
      for (CompletableFuture<String> response : responses) {
        bodies.add(response.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
      }
      return bodies;
    }
  }

  static String get(int port, String path) throws Exception {
    return getAll(port, 1, 1, i -> path).get(0);
  }
}
