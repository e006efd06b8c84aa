package org.contextvars4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.contextvars4j.spring.boot.Apps.REQUEST;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.core.task.TaskDecorator;
import org.springframework.core.task.support.ContextPropagatingTaskDecorator;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The decorator on the executors Spring Boot builds, alone and composed with the application's own
 * decorators, on a pool of one thread so that every task reuses the thread the previous one left.
 */
class TaskDecoratorTest {
  /** Set by the application's decorators when a task runs, and never reset by them. */
  static final ContextVar<String> TAG = ContextVar.named("tag", "-");

  private static final Duration WAIT = Apps.TIMEOUT;

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @EnableScheduling
  static class NoDecoratorOfItsOwn {}

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class OneDecorator {
    @Bean
    TaskDecorator tagging() {
      return new Tagging("one");
    }
  }

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class TwoDecorators {
    static final Queue<String> RUN_ORDER = new ConcurrentLinkedQueue<>();

    @Bean
    @Order(1)
    TaskDecorator first() {
      return r -> () -> {
        RUN_ORDER.add("first");
        r.run();
      };
    }

    @Bean
    @Order(2)
    TaskDecorator second() {
      return new Tagging("second");
    }
  }

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  static class SpringsContextPropagatingDecorator {
    @Bean
    TaskDecorator contextPropagating() {
      return new ContextPropagatingTaskDecorator();
    }
  }

  /**
   * What an application's decorator typically does: copies something of the submitter's (here the
   * request) into a value of its own when the task runs, and leaves it there.
   */
  record Tagging(String name) implements TaskDecorator {
    @Override
    public Runnable decorate(Runnable runnable) {
      String request = REQUEST.get();
      return () -> {
        if (!request.equals("-")) {
          TAG.set(name + ":" + request);
        }
        runnable.run();
      };
    }
  }

  @Test
  void aTaskSeesItsSubmittersValues_andTheNextTaskOnTheThreadNothingOfThem() throws Exception {
    try (ConfigurableApplicationContext app = start(NoDecoratorOfItsOwn.class)) {
      AsyncTaskExecutor executor = executor(app);
      assertThat(submitIn("a", executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("a|-");
      assertThat(submitIn(null, executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("-|-");
      assertThat(submitIn("b", executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("b|-");
    }
  }

  @Test
  void withOneDecoratorOfTheApplications_bothApply_andWhatItSetsStaysInTheTask() throws Exception {
    try (ConfigurableApplicationContext app = start(OneDecorator.class)) {
      AsyncTaskExecutor executor = executor(app);
      assertThat(submitIn("a", executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("a|one:a");
      // Tagging sets nothing for a task without a request: the last task's tag must be gone.
      assertThat(submitIn(null, executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("-|-");
    }
  }

  @Test
  void withTwoDecorators_allApply_inTheirOrder_theContextsCopyOutermost() throws Exception {
    try (ConfigurableApplicationContext app = start(TwoDecorators.class)) {
      AsyncTaskExecutor executor = executor(app);
      TwoDecorators.RUN_ORDER.clear();
      assertThat(submitIn("a", executor, TaskDecoratorTest::readAndOverwrite))
          .isEqualTo("a|second:a");
      assertThat(List.copyOf(TwoDecorators.RUN_ORDER)).containsExactly("first");
      assertThat(submitIn(null, executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("-|-");
    }
  }

  @Test
  void springsContextPropagatingTaskDecorator_carriesTheContextThroughTheMicrometerAccessor()
      throws Exception {
    try (ConfigurableApplicationContext app = start(SpringsContextPropagatingDecorator.class)) {
      AsyncTaskExecutor executor = executor(app);
      assertThat(submitIn("a", executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("a|-");
      assertThat(submitIn(null, executor, TaskDecoratorTest::readAndOverwrite)).isEqualTo("-|-");
    }
  }

  @Test
  void onVirtualThreads_aTaskSeesItsSubmittersValues() throws Exception {
    try (ConfigurableApplicationContext app =
        start(NoDecoratorOfItsOwn.class, "spring.threads.virtual.enabled=true")) {
      AsyncTaskExecutor executor = executor(app);
      Callable<String> virtualRead =
          () -> (Thread.currentThread().isVirtual() ? "" : "platform!") + readAndOverwrite();
      assertThat(submitIn("v", executor, virtualRead)).isEqualTo("v|-");
    }
  }

  @Test
  void aPeriodicTaskStartsEveryRunFromTheValuesCapturedWhenItWasScheduled() throws Exception {
    try (ConfigurableApplicationContext app = start(NoDecoratorOfItsOwn.class)) {
      TaskScheduler scheduler = app.getBean(TaskScheduler.class);
      Queue<String> seen = new ConcurrentLinkedQueue<>();
      CountDownLatch fiveRuns = new CountDownLatch(5);
      ScheduledFuture<?> periodic =
          new Context()
              .call(
                  () -> {
                    REQUEST.set("p");
                    return scheduler.scheduleAtFixedRate(
                        () -> {
                          seen.add(readAndOverwrite());
                          fiveRuns.countDown();
                        },
                        Duration.ofMillis(2));
                  });
      try {
        assertThat(fiveRuns.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      } finally {
        periodic.cancel(false);
      }
      assertThat(List.copyOf(seen)).hasSizeGreaterThanOrEqualTo(5).containsOnly("p|-");
    }
  }

  @Test
  void withThePartOff_noTaskSeesItsSubmitter() throws Exception {
    try (ConfigurableApplicationContext app =
        start(NoDecoratorOfItsOwn.class, "contextvars4j.task-decorator.enabled=false")) {
      assertThat(app.getBeansOfType(TaskDecorator.class)).isEmpty();
      assertThat(submitIn("a", executor(app), () -> REQUEST.get())).isEqualTo("-");
    }
  }

  /** Reads the request and the tag, then overwrites both, as a careless task would. */
  private static String readAndOverwrite() {
    String seen = REQUEST.get() + "|" + TAG.get();
    REQUEST.set("overwritten");
    TAG.set("overwritten");
    return seen;
  }

  /** Submits {@code task} from a context where the request is {@code request} (none if null). */
  private static String submitIn(String request, AsyncTaskExecutor executor, Callable<String> task)
      throws Exception {
    return new Context()
        .call(
            () -> {
              if (request != null) {
                REQUEST.set(request);
              }
              return executor.submit(task);
            })
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static AsyncTaskExecutor executor(ConfigurableApplicationContext app) {
    return app.getBean("applicationTaskExecutor", AsyncTaskExecutor.class);
  }

  private static ConfigurableApplicationContext start(Class<?> app, String... more) {
    List<String> properties =
        new java.util.ArrayList<>(
            List.of("spring.task.execution.pool.core-size=1", "spring.task.execution.pool.max-size=1"));
    properties.addAll(List.of(more));
    return Apps.start(app, WebApplicationType.NONE, properties.toArray(String[]::new));
  }
}
