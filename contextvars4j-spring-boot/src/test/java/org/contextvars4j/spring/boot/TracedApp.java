package org.contextvars4j.spring.boot;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A traced Spring MVC application: Spring Boot's own tracing (Micrometer Tracing on the
 * OpenTelemetry SDK) makes the server span and puts its ids into the MDC. The handler logs a line,
 * puts a {@code request_id} into the MDC and never removes it, then logs a line on the request
 * thread, in an {@code @Async} method, on the application's pool and on a virtual thread, and
 * answers with the ids of the span current in the handler.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@EnableAsync
@Import({TracedApp.Handlers.class, TracedApp.AsyncLogger.class})
class TracedApp {
  static final Logger LOG = LoggerFactory.getLogger(TracedApp.class);
  static final long WAIT_SECONDS = Apps.TIMEOUT.toSeconds();

  @RestController
  static class Handlers {
    private final AsyncLogger asyncLogger;
    private final AsyncTaskExecutor applicationTaskExecutor;
    private final AsyncTaskExecutor virtualThreads;

    Handlers(
        AsyncLogger asyncLogger,
        @Qualifier("applicationTaskExecutor") AsyncTaskExecutor applicationTaskExecutor,
        SimpleAsyncTaskExecutorBuilder builder) {
      this.asyncLogger = asyncLogger;
      this.applicationTaskExecutor = applicationTaskExecutor;
      this.virtualThreads = builder.virtualThreads(true).build();
    }

    @GetMapping("/traced")
    String traced(@RequestParam("id") String id) throws Exception {
      LOG.info("start {}", id);
      // Never removed: the next request on this thread must not see it all the same.
      MDC.put("request_id", id);
      LOG.info("handler {}", id);
      CompletableFuture<Void> async = asyncLogger.log(id);
      Future<?> pooled = applicationTaskExecutor.submit(() -> LOG.info("pool {}", id));
      Future<?> virtual = virtualThreads.submit(() -> LOG.info("virtual {}", id));
      async.get(WAIT_SECONDS, TimeUnit.SECONDS);
      pooled.get(WAIT_SECONDS, TimeUnit.SECONDS);
      virtual.get(WAIT_SECONDS, TimeUnit.SECONDS);
      SpanContext span = Span.current().getSpanContext();
      return span.getTraceId() + "|" + span.getSpanId();
    }
  }

  @Component
  static class AsyncLogger {
    @Async
    CompletableFuture<Void> log(String id) {
      LOG.info("async {}", id);
      return CompletableFuture.completedFuture(null);
    }
  }
}
