package org.contextvars4j.examples.shop;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.contextvars4j.Token;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.boot.task.ThreadPoolTaskExecutorBuilder;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The {@code orders} service: {@code POST /orders} takes a request id ({@code X-Request-Id},
 * generated when absent), a tenant ({@code X-Tenant}), a user ({@code X-User}) and an item (the
 * body), binds them in {@code ContextVar}s and the MDC, and handles the order across every
 * mechanism a Spring Boot service hands work to: an {@code @Async} method, a {@code
 * CompletableFuture} chain on the application's pool, a Reactor pipeline with {@code publishOn},
 * a virtual thread, a parallel stream, a retry on the scheduler, and an HTTP call to {@code
 * inventory}. The handlers contain no propagation code. Each step logs a line and records what
 * it saw; the answer is every observation, inventory's included, one per line.
 *
 * <p>{@code X-Fault} makes the request run into a fault on purpose (see {@link Fault}).
 *
 * <p>System property {@code shop.inventory}: inventory's base URL.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@EnableAsync
@EnableScheduling
@Import({Orders.Handler.class, Orders.AsyncSteps.class, Probe.class})
public class Orders {
  static final Logger LOG = LoggerFactory.getLogger(Orders.class);
  static final Duration WAIT = Duration.ofSeconds(20);
  /** How long the slow stage of a {@link Fault#TIMEOUT} request takes, and the deadline it misses. */
  static final Duration SLOW = Duration.ofMillis(300);

  static final Duration DEADLINE = Duration.ofMillis(50);
  static final int PARALLEL_ELEMENTS = 4;
  static final Duration PARALLEL_WORK = Duration.ofMillis(1);

  /** Created by Spring. */
  Orders() {}

  /**
   * Starts the service.
   *
   * @param args not used: the service is configured by system properties
   */
  public static void main(String[] args) {
    // Work waits on inventory's answers and on the faults' slow stages: a pool for that.
    Service.start(Orders.class, "orders", "spring.task.execution.pool.core-size=64");
  }

  @Component
  static class AsyncSteps {
    @Async
    CompletableFuture<Void> run(String id, Queue<Observed> seen) {
      seen.add(Observed.record(LOG, "async", id));
      return CompletableFuture.completedFuture(null);
    }
  }

  @RestController
  static class Handler implements DisposableBean {
    private final AsyncSteps asyncSteps;
    private final AsyncTaskExecutor pool;
    private final SimpleAsyncTaskExecutor virtualThreads;
    private final ThreadPoolTaskExecutor fullPool;
    private final TaskScheduler scheduler;
    private final RestClient inventory;
    private final Probe probe;

    Handler(
        AsyncSteps asyncSteps,
        @Qualifier("applicationTaskExecutor") AsyncTaskExecutor pool,
        SimpleAsyncTaskExecutorBuilder simple,
        ThreadPoolTaskExecutorBuilder pools,
        TaskScheduler scheduler,
        RestClient.Builder http,
        Probe probe) {
      this.asyncSteps = asyncSteps;
      this.pool = pool;
      this.virtualThreads = simple.virtualThreads(true).threadNamePrefix("virtual-").build();
      // One thread and one place in the queue: the third task waiting hits the caller-runs policy.
      this.fullPool =
          pools.corePoolSize(1).maxPoolSize(1).queueCapacity(1).threadNamePrefix("full-").build();
      this.fullPool.setRejectedExecutionHandler(new ThreadPoolExecutor.CallerRunsPolicy());
      this.fullPool.initialize();
      this.scheduler = scheduler;
      this.inventory = http.baseUrl(System.getProperty("shop.inventory", "http://127.0.0.1:8081")).build();
      this.probe = probe;
      if (pool instanceof ThreadPoolTaskExecutor threads) {
        probe.addRaw("application", Probe.RawPool.of(threads.getThreadPoolExecutor()));
      }
      probe.addRaw("full", Probe.RawPool.of(fullPool.getThreadPoolExecutor()));
      if (scheduler instanceof ThreadPoolTaskScheduler threads) {
        probe.addByTask("scheduler", threads, threads.getPoolSize());
      }
      probe.addByTask(
          "reactor-parallel", task -> Schedulers.parallel().schedule(task), Schedulers.DEFAULT_POOL_SIZE);
      probe.addByTask(
          "common-fork-join", ForkJoinPool.commonPool(), ForkJoinPool.getCommonPoolParallelism());
    }

    @PostMapping(
        path = "/orders",
        consumes = MediaType.TEXT_PLAIN_VALUE,
        produces = MediaType.TEXT_PLAIN_VALUE)
    ResponseEntity<String> order(
        @RequestHeader(name = "X-Request-Id", required = false) @Nullable String given,
        @RequestHeader("X-Tenant") String tenant,
        @RequestHeader("X-User") String user,
        @RequestHeader(name = "X-Fault", defaultValue = "none") String fault,
        @RequestBody String item)
        throws Exception {
      String id = given != null ? given : "gen-" + UUID.randomUUID();
      Queue<Observed> seen = new ConcurrentLinkedQueue<>();
      HttpStatus status;
      try (Token<String> requestId = ShopVars.REQUEST_ID.set(id);
          Token<String> tenantToken = ShopVars.TENANT.set(tenant);
          Token<String> userToken = ShopVars.USER.set(user);
          MDC.MDCCloseable mdcId = MDC.putCloseable(ShopVars.MDC_REQUEST_ID, id);
          MDC.MDCCloseable mdcTenant = MDC.putCloseable(ShopVars.MDC_TENANT, tenant)) {
        status = handle(id, item.strip(), Fault.of(fault), seen);
      }
      return ResponseEntity.status(status)
          .header("X-Request-Id", id)
          .body(seen.stream().map(Observed::toLine).collect(Collectors.joining("\n")));
    }

    private HttpStatus handle(String id, String item, Fault fault, Queue<Observed> seen)
        throws Exception {
      seen.add(Observed.record(LOG, "handler", id));
      CompletableFuture<Void> async = asyncSteps.run(id, seen);
      CompletableFuture<Void> chain =
          CompletableFuture.supplyAsync(() -> Observed.record(LOG, "future.supply", id), pool)
              .thenApplyAsync(
                  supplied -> {
                    seen.add(supplied);
                    seen.add(Observed.record(LOG, "future.apply", id));
                    if (fault == Fault.THROW) {
                      throw new IllegalStateException("a stage of " + id + " failed on purpose");
                    }
                    return null;
                  },
                  pool);
      CompletableFuture<String> stock =
          CompletableFuture.supplyAsync(
              () -> {
                seen.add(Observed.record(LOG, "http.call", id));
                return inventory
                    .get()
                    .uri("/stock/{item}?for={id}", item, id)
                    .retrieve()
                    .body(String.class);
              },
              pool);
      Future<?> virtual = virtualThreads.submit(() -> seen.add(Observed.record(LOG, "virtual", id)));
      CompletableFuture<Void> retried = retry(id, seen);
      Observed published =
          Mono.fromCallable(() -> Observed.record(LOG, "reactor.source", id))
              .publishOn(Schedulers.parallel())
              .map(
                  source -> {
                    seen.add(source);
                    return Observed.record(LOG, "reactor.publishOn", id);
                  })
              .block(WAIT);
      seen.add(published);
      IntStream.range(0, PARALLEL_ELEMENTS)
          .parallel()
          .forEach(
              i -> {
                // A little work per element, so that the common pool's worker takes some.
                pause(PARALLEL_WORK);
                seen.add(Observed.record(LOG, "parallel", id));
              });

      HttpStatus status = HttpStatus.OK;
      switch (fault) {
        case TIMEOUT -> status = timeOut(id, seen);
        case CANCEL -> cancel(id, seen);
        case FULL -> overflow(id, seen);
        case NONE, THROW -> {}
      }
      async.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      virtual.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      retried.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      String stockLines = stock.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      if (stockLines != null && !stockLines.isEmpty()) {
        stockLines.lines().map(Observed::parse).forEach(seen::add);
      }
      try {
        chain.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        // The line after a failed stage is still the request's.
        seen.add(Observed.record(LOG, "error.caught", id));
        status = HttpStatus.INTERNAL_SERVER_ERROR;
      }
      return status;
    }

    /** Attempt 1 fails; the scheduler runs attempt 2 a little later. */
    private CompletableFuture<Void> retry(String id, Queue<Observed> seen) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      scheduler.schedule(
          () -> {
            seen.add(Observed.record(LOG, "retry.attempt1", id));
            scheduler.schedule(
                () -> {
                  seen.add(Observed.record(LOG, "retry.attempt2", id));
                  done.complete(null);
                },
                Instant.now().plusMillis(2));
          },
          Instant.now());
      return done;
    }

    /** A stage slower than the deadline: the request gives up; the stage logs when it ends. */
    private HttpStatus timeOut(String id, Queue<Observed> seen) {
      // A task of its own, not runAsync: a CompletableFuture's task skips its function when the
      // future is complete already, and the deadline may pass before a busy pool starts it.
      CompletableFuture<Void> slow = new CompletableFuture<>();
      pool.execute(
          () -> {
            pause(SLOW);
            // After the answer was sent: logged, not in the answer.
            Observed.record(LOG, "timeout.late", id);
            slow.complete(null);
          });
      try {
        slow.orTimeout(DEADLINE.toMillis(), TimeUnit.MILLISECONDS).join();
        throw new IllegalStateException(id + ": the slow stage ended before its deadline");
      } catch (CompletionException e) {
        if (!(e.getCause() instanceof TimeoutException)) {
          throw e;
        }
        seen.add(Observed.record(LOG, "timeout.caught", id));
        return HttpStatus.GATEWAY_TIMEOUT;
      }
    }

    /** A running task is cancelled; it is interrupted, and its last line is still the request's. */
    private void cancel(String id, Queue<Observed> seen) throws Exception {
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch interrupted = new CountDownLatch(1);
      Future<?> task =
          pool.submit(
              () -> {
                started.countDown();
                try {
                  Thread.sleep(WAIT.toMillis());
                } catch (InterruptedException e) {
                  seen.add(Observed.record(LOG, "cancel.interrupted", id));
                  interrupted.countDown();
                }
              });
      await(started, id + ": the task to cancel never started");
      task.cancel(true);
      await(interrupted, id + ": the cancelled task was not interrupted");
      seen.add(Observed.record(LOG, "cancel.after", id));
    }

    /**
     * Tasks handed to the full pool until its caller-runs policy runs one here, on the request
     * thread. Every task sets {@code STAGE}; none of it may reach the caller.
     */
    private void overflow(String id, Queue<Observed> seen) throws Exception {
      Thread caller = Thread.currentThread();
      CountDownLatch hold = new CountDownLatch(1);
      AtomicBoolean ranHere = new AtomicBoolean();
      List<CompletableFuture<Void>> accepted = new ArrayList<>();
      // The pool holds two tasks, and ours wait until we let go: at the latest the third of ours
      // is rejected and runs here. Other requests' tasks only make it sooner.
      for (int i = 0; i < 3 && !ranHere.get(); i++) {
        CompletableFuture<Void> ran = new CompletableFuture<>();
        fullPool.execute(
            () -> {
              ShopVars.STAGE.set("full");
              boolean here = Thread.currentThread() == caller;
              seen.add(Observed.record(LOG, here ? "full.callerRuns" : "full.pool", id));
              ran.complete(null);
              if (here) {
                ranHere.set(true);
              } else {
                awaitQuietly(hold);
              }
            });
        if (!ranHere.get()) {
          accepted.add(ran);
        }
      }
      hold.countDown();
      if (!ranHere.get()) {
        throw new IllegalStateException(id + ": the full pool accepted three tasks");
      }
      for (CompletableFuture<Void> ran : accepted) {
        ran.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
      // STAGE was set by every task, one of them on this thread: none of it is seen here.
      seen.add(Observed.record(LOG, "full.after", id));
    }

    @Override
    public void destroy() {
      fullPool.shutdown();
      virtualThreads.close();
    }
  }

  static void pause(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void await(CountDownLatch latch, String otherwise) throws InterruptedException {
    if (!latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      throw new IllegalStateException(otherwise + " within " + WAIT);
    }
  }

  static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
