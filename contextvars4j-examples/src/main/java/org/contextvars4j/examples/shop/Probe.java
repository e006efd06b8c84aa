package org.contextvars4j.examples.shop;

import io.opentelemetry.api.trace.Span;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.contextvars4j.Context;
import org.slf4j.MDC;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /probe}, after the load: what every thread of every pool of the service holds when
 * no request runs. A probe on a {@link ThreadPoolExecutor} is put straight into the pool's queue,
 * past every wrapper, the decorator's and the agent's, so it sees the worker's own context: what
 * code there would see outside any task. Other pools are probed by a task handed over from an
 * empty context, so the probe sees what a task there starts from. Each line: {@code pool},
 * {@code thread}, {@code how} ({@code raw} or {@code task}), and what was found: {@code clean},
 * or the values left over.
 */
@RestController
class Probe {
  private static final long WAIT_SECONDS = 5;
  private final Map<String, RawPool> raw = new LinkedHashMap<>();
  private final Map<String, Executor> byTask = new LinkedHashMap<>();
  private final Map<String, Integer> byTaskThreads = new LinkedHashMap<>();

  /**
   * A pool whose queue the probe fills directly: the JDK's {@code ThreadPoolExecutor}, or
   * Tomcat's copy of it.
   *
   * @param queue the queue the pool's idle workers wait on
   * @param idleThreads how many workers wait on it now
   */
  record RawPool(BlockingQueue<Runnable> queue, IntSupplier idleThreads) {
    static RawPool of(ThreadPoolExecutor pool) {
      return new RawPool(pool.getQueue(), () -> pool.getPoolSize() - pool.getActiveCount());
    }

    static RawPool of(org.apache.tomcat.util.threads.ThreadPoolExecutor pool) {
      return new RawPool(pool.getQueue(), () -> pool.getPoolSize() - pool.getActiveCount());
    }
  }

  /** Adds the request pool of the service's Tomcat once it serves: the pool of every service. */
  @EventListener
  void serving(WebServerInitializedEvent event) {
    if (event.getWebServer() instanceof TomcatWebServer tomcat
        && tomcat.getTomcat().getConnector().getProtocolHandler().getExecutor()
            instanceof org.apache.tomcat.util.threads.ThreadPoolExecutor threads) {
      addRaw("tomcat", RawPool.of(threads));
    }
  }

  /** Adds a pool whose queue the probe fills directly. */
  synchronized void addRaw(String pool, RawPool executor) {
    raw.put(pool, executor);
  }

  /** Adds a pool that the probe reaches through {@code execute}, {@code threads} tasks at once. */
  synchronized void addByTask(String pool, Executor executor, int threads) {
    byTask.put(pool, executor);
    byTaskThreads.put(pool, threads);
  }

  @GetMapping(path = "/probe", produces = MediaType.TEXT_PLAIN_VALUE)
  synchronized String probe() throws InterruptedException {
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, RawPool> pool : raw.entrySet()) {
      RawPool executor = pool.getValue();
      // Idle workers wait on the queue: each takes one probe and holds it until all arrived.
      int threads = executor.idleThreads().getAsInt();
      probe(pool.getKey(), "raw", threads, task -> executor.queue().offer(task), lines);
    }
    for (Map.Entry<String, Executor> pool : byTask.entrySet()) {
      Executor executor = pool.getValue();
      // From an empty context: a task starts from what it was handed over with.
      new Context()
          .call(
              () -> {
                probe(pool.getKey(), "task", byTaskThreads.get(pool.getKey()), executor::execute, lines);
                return null;
              });
    }
    return String.join("\n", lines);
  }

  private interface Submit {
    void submit(Runnable task) throws Exception;
  }

  private static void probe(String pool, String how, int count, Submit submit, List<String> lines)
      throws InterruptedException {
    if (count <= 0) {
      return;
    }
    Map<String, String> found = new ConcurrentHashMap<>();
    CountDownLatch arrived = new CountDownLatch(count);
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < count; i++) {
      try {
        submit.submit(
            () -> {
              found.putIfAbsent(Thread.currentThread().getName(), leftovers());
              arrived.countDown();
              try {
                // Held, so that the thread takes no second probe and another thread takes this one.
                release.await(WAIT_SECONDS, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
      } catch (Exception e) {
        lines.add(String.join("\t", pool, "-", how, "probe not accepted: " + e));
      }
    }
    arrived.await(WAIT_SECONDS, TimeUnit.SECONDS);
    release.countDown();
    found.forEach((thread, what) -> lines.add(String.join("\t", pool, thread, how, what)));
  }

  /** {@return {@code clean}, or what the thread holds of a request} */
  static String leftovers() {
    List<String> left = new ArrayList<>();
    addIfBound(left, "REQUEST_ID", ShopVars.REQUEST_ID.get());
    addIfBound(left, "TENANT", ShopVars.TENANT.get());
    addIfBound(left, "USER", ShopVars.USER.get());
    addIfBound(left, "STAGE", ShopVars.STAGE.get());
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    if (mdc != null && !mdc.isEmpty()) {
      left.add("MDC=" + mdc);
    }
    if (Span.current().getSpanContext().isValid()) {
      left.add("span=" + Span.current().getSpanContext().getTraceId());
    }
    return left.isEmpty() ? "clean" : String.join(" ", left);
  }

  private static void addIfBound(List<String> left, String name, String value) {
    if (!ShopVars.UNBOUND.equals(value)) {
      left.add(name + "=" + value);
    }
  }
}
