package org.contextvars4j.spring.boot;

import static org.contextvars4j.spring.boot.Apps.REQUEST;

import java.time.Duration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A WebFlux application whose handler sets {@link Apps#REQUEST} on the event-loop thread and never
 * resets it, then reads it across schedulers. It answers with what each place saw, separated by
 * {@code |}: before the set, right after it, on {@code boundedElastic}, after a {@code publishOn}
 * and after a delay.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
@Import(WebFluxApp.Handlers.class)
class WebFluxApp {

  @RestController
  static class Handlers {
    @GetMapping("/exchange")
    Mono<String> exchange(@RequestParam("id") String id) {
      String atStart = REQUEST.get();
      REQUEST.set(id);
      String afterSet = REQUEST.get();
      return Mono.fromCallable(() -> atStart + "|" + afterSet + "|" + REQUEST.get())
          .subscribeOn(Schedulers.boundedElastic())
          .publishOn(Schedulers.parallel())
          .map(seen -> seen + "|" + REQUEST.get())
          .delayElement(Duration.ofMillis(1))
          .map(seen -> seen + "|" + REQUEST.get())
          // Micrometer's way into the Reactor context: the whole context, through one accessor.
          .contextCapture();
    }

    /** What the exchange found before it set its value, and the thread it found it on. */
    @GetMapping("/thread")
    String thread(@RequestParam("id") String id) {
      String atStart = REQUEST.get();
      REQUEST.set(id);
      return atStart + "|" + Thread.currentThread().getName();
    }
  }
}
