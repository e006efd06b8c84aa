package org.contextvars4j.spring.boot;

import static org.contextvars4j.spring.boot.Apps.REQUEST;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Instant;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * A Spring MVC application whose handlers set {@link Apps#REQUEST} and never reset it, then read it
 * back through every executor Spring Boot builds. A handler answers with what each place saw,
 * separated by {@code |}, starting with what the request found before it set anything.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@EnableAsync
@EnableScheduling
@Import({ServletApp.Handlers.class, ServletApp.AsyncReader.class, ServletApp.Ticker.class})
class ServletApp {
  static final long WAIT_SECONDS = Apps.TIMEOUT.toSeconds();

  /**
   * On a request's later dispatches (asynchronous, error), puts what the dispatch sees of {@link
   * Apps#REQUEST} in a response header {@code Seen-On-ASYNC} or {@code Seen-On-ERROR}.
   */
  @Bean
  FilterRegistrationBean<Filter> seenOnLaterDispatches() {
    FilterRegistrationBean<Filter> registration =
        new FilterRegistrationBean<>(
            (request, response, chain) -> {
              ((HttpServletResponse) response)
                  .setHeader("Seen-On-" + request.getDispatcherType(), REQUEST.get());
              chain.doFilter(request, response);
            });
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
    registration.setDispatcherTypes(DispatcherType.ASYNC, DispatcherType.ERROR);
    return registration;
  }

  @RestController
  static class Handlers {
    private final AsyncReader asyncReader;
    private final AsyncTaskExecutor applicationTaskExecutor;
    private final TaskScheduler taskScheduler;
    private final AsyncTaskExecutor virtualThreads;

    Handlers(
        AsyncReader asyncReader,
        @Qualifier("applicationTaskExecutor") AsyncTaskExecutor applicationTaskExecutor,
        TaskScheduler taskScheduler,
        SimpleAsyncTaskExecutorBuilder builder) {
      this.asyncReader = asyncReader;
      this.applicationTaskExecutor = applicationTaskExecutor;
      this.taskScheduler = taskScheduler;
      this.virtualThreads = builder.virtualThreads(true).build();
    }

    @GetMapping("/request")
    String request(@RequestParam("id") String id) throws Exception {
      String atStart = REQUEST.get();
      REQUEST.set(id);
      CompletableFuture<String> async = asyncReader.readAndOverwrite();
      Future<String> pooled = applicationTaskExecutor.submit(ServletApp::readAndOverwrite);
      CompletableFuture<String> scheduled = new CompletableFuture<>();
      taskScheduler.schedule(() -> scheduled.complete(readAndOverwrite()), Instant.now());
      Future<String> virtual =
          virtualThreads.submit(
              () -> Thread.currentThread().isVirtual() ? readAndOverwrite() : "not virtual");
      return String.join(
          "|",
          atStart,
          async.get(WAIT_SECONDS, TimeUnit.SECONDS),
          pooled.get(WAIT_SECONDS, TimeUnit.SECONDS),
          scheduled.get(WAIT_SECONDS, TimeUnit.SECONDS),
          virtual.get(WAIT_SECONDS, TimeUnit.SECONDS),
          REQUEST.get());
    }

    /** Completed by a plain thread; the result is written in an asynchronous dispatch. */
    @GetMapping("/deferred")
    DeferredResult<String> deferred(@RequestParam("id") String id) {
      String atStart = REQUEST.get();
      REQUEST.set(id);
      DeferredResult<String> result = new DeferredResult<>(Apps.TIMEOUT.toMillis());
      Thread.ofPlatform().start(() -> result.setResult(atStart + "|" + REQUEST.get()));
      return result;
    }

    /** Fails; the server then makes an error dispatch on the same thread. */
    @GetMapping("/fails")
    String fails(@RequestParam("id") String id) {
      REQUEST.set(id);
      throw new IllegalStateException("fails on purpose");
    }

    /** Spring MVC runs the callable on the application task executor, then dispatches again. */
    @GetMapping("/callable")
    Callable<String> callable(@RequestParam("id") String id) {
      String atStart = REQUEST.get();
      REQUEST.set(id);
      return () -> atStart + "|" + readAndOverwrite();
    }
  }

  @Component
  static class AsyncReader {
    @Async
    CompletableFuture<String> readAndOverwrite() {
      return CompletableFuture.completedFuture(ServletApp.readAndOverwrite());
    }
  }

  /** A {@code @Scheduled} method: each run starts from the (empty) context it was scheduled in. */
  @Component
  static class Ticker {
    final Queue<String> seen = new ConcurrentLinkedQueue<>();

    @Scheduled(fixedDelay = 5)
    void tick() {
      seen.add(readAndOverwrite());
    }
  }

  /** Reads the value, then sets another one that must not reach anything else. */
  static String readAndOverwrite() {
    String value = REQUEST.get();
    REQUEST.set("overwritten by a task that saw " + value);
    return value;
  }
}
