package org.contextvars4j.examples.shop;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.http.MediaType;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The {@code inventory} service: {@code GET /stock/{item}?for=ID} answers from what it sees in its
 * own context. The request id and the tenant arrive as W3C baggage and are bound in {@link
 * ShopVars#REQUEST_ID} and {@link ShopVars#TENANT} before the handler runs ({@code BaggageVars});
 * the trace arrives as {@code traceparent}. {@code for} is the request id as orders' code knows
 * it, sent apart from the context, so that the checks can compare the two. The handler puts the
 * two variables into the MDC, logs a line, hands a step to the application's pool, and answers
 * with both observations.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@Import({Inventory.Handler.class, Probe.class})
public class Inventory {
  static final Logger LOG = LoggerFactory.getLogger(Inventory.class);

  /** Created by Spring. */
  Inventory() {}

  /**
   * Starts the service.
   *
   * @param args not used: the service is configured by system properties
   */
  public static void main(String[] args) {
    Service.start(Inventory.class, "inventory");
  }

  @RestController
  static class Handler {
    private final AsyncTaskExecutor pool;
    private final Probe probe;

    Handler(@Qualifier("applicationTaskExecutor") AsyncTaskExecutor pool, Probe probe) {
      this.pool = pool;
      this.probe = probe;
      if (pool instanceof ThreadPoolTaskExecutor threads) {
        probe.addRaw("application", Probe.RawPool.of(threads.getThreadPoolExecutor()));
      }
    }

    @GetMapping(path = "/stock/{item}", produces = MediaType.TEXT_PLAIN_VALUE)
    String stock(@PathVariable("item") String item, @RequestParam("for") String forId) throws Exception {
      try (MDC.MDCCloseable id = MDC.putCloseable(ShopVars.MDC_REQUEST_ID, ShopVars.REQUEST_ID.get());
          MDC.MDCCloseable tenant = MDC.putCloseable(ShopVars.MDC_TENANT, ShopVars.TENANT.get())) {
        Observed handler = Observed.record(LOG, "inventory.handler", forId);
        Observed pooled =
            CompletableFuture.supplyAsync(() -> Observed.record(LOG, "inventory.pool", forId), pool)
                .get(Orders.WAIT.toSeconds(), TimeUnit.SECONDS);
        return String.join("\n", handler.toLine(), pooled.toLine());
      }
    }
  }
}
