package org.contextvars4j.examples.shop;

import io.micrometer.context.ContextRegistry;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.contextvars4j.micrometer.ContextThreadLocalAccessor;
import org.contextvars4j.opentelemetry.BaggageVars;
import org.slf4j.MDC;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Starts one of the shop's services in this JVM, as its {@code main} does, and prints {@code
 * shop-ready port=N ...} on standard output once it serves.
 *
 * <p>System properties: {@code shop.propagation} {@code on} (the default) or {@code off}, and
 * {@code shop.logs}, the folder of the service's log file. {@code off} is the service without the
 * library's propagation: {@code contextvars4j.enabled=false} switches the Spring Boot module off,
 * and this class removes the Micrometer accessor; the JVM is started without the agent, without
 * {@code slf4j.provider} (Logback's own MDC) and with OpenTelemetry's default storage ({@link
 * ShopDemo} does that). The code of the handlers is the same in both.
 */
final class Service {
  /** The log file's line: the MDC's three entries, then the step's own message. */
  static final String LOG_PATTERN =
      "%d{HH:mm:ss.SSS} [%thread] rid=%X{request_id:--} tenant=%X{tenant:--}"
          + " trace=%X{traceId:--} | %msg%n";

  private Service() {}

  /** Beans both services have. */
  @Configuration(proxyBeanMethods = false)
  static class Common {
    /**
     * W3C baggage with the declared variables ({@link ShopVars#REQUEST_ID}, {@link
     * ShopVars#TENANT}) as entries; Spring Boot composes it with its own propagators.
     */
    @Bean
    TextMapPropagator baggageVarsPropagator() {
      return BaggageVars.propagator();
    }
  }

  static ConfigurableApplicationContext start(Class<?> app, String name, String... properties) {
    // Declares the baggage variables now: a declaration made when a handler first touches
    // ShopVars would come after the first request's baggage was read.
    ShopVars.declared();
    boolean on = !"off".equals(System.getProperty("shop.propagation", "on"));
    String mode = on ? "on" : "off";
    if (!on) {
      // The accessor loads itself wherever its jar is: a user without the library has none.
      ContextRegistry.getInstance().removeThreadLocalAccessor(ContextThreadLocalAccessor.KEY);
    }
    Path logs = Path.of(System.getProperty("shop.logs", "."));
    List<String> all =
        new ArrayList<>(
            List.of(
                "spring.application.name=" + name,
                "server.port=0",
                "server.address=127.0.0.1",
                "spring.main.banner-mode=off",
                "contextvars4j.enabled=" + on,
                "spring.reactor.context-propagation=auto",
                "management.tracing.sampling.probability=1.0",
                "spring.task.execution.pool.core-size=16",
                "spring.task.execution.pool.queue-capacity=10000",
                "spring.task.scheduling.pool.size=2",
                "logging.level.root=WARN",
                "logging.level." + Service.class.getPackageName() + "=INFO",
                "logging.file.name=" + logs.resolve(name + "-" + mode + ".log"),
                "logging.pattern.file=" + LOG_PATTERN,
                // One file for the whole run: the demo parses it back.
                "logging.logback.rollingpolicy.max-file-size=4GB",
                // No console lines: standard output carries the ready line.
                "logging.threshold.console=OFF"));
    all.addAll(List.of(properties));
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(app, Common.class)
            .web(WebApplicationType.SERVLET)
            .properties(all.toArray(String[]::new))
            .run();
    String port = context.getEnvironment().getRequiredProperty("local.server.port");
    System.out.printf(
        "shop-ready port=%s propagation=%s: MDC %s, OpenTelemetry's context %s%n",
        port,
        mode,
        MDC.getMDCAdapter().getClass().getSimpleName(),
        openTelemetryStorage());
    System.out.flush();
    return context;
  }

  /** {@return where OpenTelemetry keeps its current context: Spring Boot wraps the storage} */
  private static String openTelemetryStorage() {
    ContextKey<String> key = ContextKey.named("shop-storage-check");
    try (Scope scope = io.opentelemetry.context.Context.current().with(key, "x").makeCurrent()) {
      io.opentelemetry.context.Context current = io.opentelemetry.context.Context.current();
      boolean inAContextVar =
          org.contextvars4j.Context.copyCurrent().asMap().containsValue(current);
      return inAContextVar ? "in a ContextVar" : "in OpenTelemetry's ThreadLocal";
    }
  }
}
