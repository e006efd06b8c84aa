package org.contextvars4j.examples.shop;

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

/**
 * Sends requests to one orders service, at most {@code concurrency} at a time, with the JDK's
 * {@code HttpClient}, to a loopback address only. Every wait is bounded: a request that gets no
 * answer within {@link #REQUEST_TIMEOUT} is an answer with a failure. Not thread-safe.
 */
final class LoadGenerator implements AutoCloseable {
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(REQUEST_TIMEOUT)
          .build();
  private final URI orders;

  LoadGenerator(int port) {
    this.orders = URI.create("http://127.0.0.1:" + port + "/orders");
  }

  /**
   * Sends {@code requests} and returns their answers, in order.
   *
   * @param progress told of every answer
   */
  List<Answer> send(List<Sent> requests, int concurrency, Progress progress) throws InterruptedException {
    Semaphore inFlight = new Semaphore(concurrency);
    List<CompletableFuture<Answer>> answers = new ArrayList<>(requests.size());
    for (Sent sent : requests) {
      if (!inFlight.tryAcquire(REQUEST_TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS)) {
        throw new IllegalStateException("no request ended within " + REQUEST_TIMEOUT.multipliedBy(2));
      }
      HttpRequest.Builder request =
          HttpRequest.newBuilder(orders)
              .timeout(REQUEST_TIMEOUT)
              .header("Content-Type", "text/plain")
              .header("X-Tenant", sent.tenant())
              .header("X-User", sent.user())
              .header("X-Fault", sent.fault().header())
              .header("traceparent", sent.traceparent())
              .POST(HttpRequest.BodyPublishers.ofString(sent.item()));
      if (sent.givenId() != null) {
        request.header("X-Request-Id", sent.givenId());
      }
      long start = System.nanoTime();
      answers.add(
          client
              .sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
              .handle(
                  (response, failure) -> {
                    long nanos = System.nanoTime() - start;
                    inFlight.release();
                    Answer answer = answer(sent, response, failure, nanos);
                    progress.answered();
                    return answer;
                  }));
    }
    List<Answer> done = new ArrayList<>(answers.size());
    for (CompletableFuture<Answer> answer : answers) {
      done.add(answer.join());
    }
    return done;
  }

  private static Answer answer(
      Sent sent, HttpResponse<String> response, Throwable failure, long nanos) {
    if (failure != null) {
      return new Answer(sent, 0, "", List.of(), nanos, failure.toString());
    }
    try {
      List<Observed> seen =
          response.body().isEmpty()
              ? List.of()
              : response.body().lines().map(Observed::parse).toList();
      String id = response.headers().firstValue("X-Request-Id").orElse("");
      return new Answer(sent, response.statusCode(), id, seen, nanos, null);
    } catch (IllegalArgumentException e) {
      return new Answer(
          sent, response.statusCode(), "", List.of(), nanos, "an answer that is no list of observations: " + e.getMessage());
    }
  }

  /**
   * {@return what {@code GET /probe} of a service found, one line per pool thread}
   *
   * @param port the service's port
   */
  List<String> probe(int port) throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/probe"))
                .timeout(REQUEST_TIMEOUT)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("the probe answered " + response.statusCode() + ": " + response.body());
    }
    return response.body().lines().toList();
  }

  @Override
  public void close() {
    client.close();
  }
}
