package org.contextvars4j.spring.boot;

import jakarta.servlet.DispatcherType;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.task.TaskDecorator;

/**
 * The Spring Boot auto-configuration of contextvars4j, active with the dependency alone (Spring
 * Boot 3.5 and 4.0). It installs three independent parts, each switched off by its property:
 *
 * <table class="striped">
 *   <caption>Parts and properties</caption>
 *   <thead><tr><th scope="col">part</th><th scope="col">property (default {@code true})</th>
 *   </tr></thead>
 *   <tbody>
 *     <tr><td>{@link ContextTaskDecorator} for the executors and schedulers Boot builds: {@code
 *         @Async} methods, {@code ThreadPoolTaskExecutor}, {@code SimpleAsyncTaskExecutor} on
 *         virtual threads, {@code ThreadPoolTaskScheduler}, Spring MVC's asynchronous requests;
 *         each task runs in a copy of the submitter's context</td>
 *         <td>{@code contextvars4j.task-decorator.enabled}</td></tr>
 *     <tr><td>{@link ContextServletFilter}: each Servlet request in a fresh context</td>
 *         <td>{@code contextvars4j.servlet.enabled}</td></tr>
 *     <tr><td>{@link ContextWebFilter}: each WebFlux exchange in a fresh context</td>
 *         <td>{@code contextvars4j.webflux.enabled}</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>{@code contextvars4j.enabled=false} switches all three off.
 *
 * <p>The application's own {@link TaskDecorator} beans keep working: Spring Boot 4 composes every
 * such bean, and the context's decorator comes last in that order, so its copy is the outermost
 * layer and what the others' wrappers set at run time is set in the task's copy. Spring Boot 3.5
 * gives executors a decorator only when it is unique or primary, so there the decorator is a
 * primary bean that composes the others, in their order, the same way. (An application with a
 * primary {@code TaskDecorator} of its own on Spring Boot 3.5 should switch the part off and
 * compose {@link ContextTaskDecorator} into its own.)
 *
 * <p>Reactor needs nothing here: with {@code spring.reactor.context-propagation=auto}, Spring Boot
 * turns Reactor's automatic context propagation on, and {@code contextvars4j-micrometer}, which
 * this module brings, carries the whole context as one Micrometer accessor.
 *
 * <p>Thread safety: a configuration class, used by Spring while the application starts.
 */
@AutoConfiguration
@ConditionalOnProperty(name = "contextvars4j.enabled", havingValue = "true", matchIfMissing = true)
public class ContextVarsAutoConfiguration {
  // Present only in Spring Boot 4, the first that composes TaskDecorator beans.
  private static final String BOOT_4_CLASS = "org.springframework.boot.EnvironmentPostProcessor";

  /** Created by Spring Boot. */
  public ContextVarsAutoConfiguration() {}

  /** The task decorator on Spring Boot 4, which composes every {@code TaskDecorator} bean. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = BOOT_4_CLASS)
  @ConditionalOnProperty(
      name = "contextvars4j.task-decorator.enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class ComposingBootTaskDecoratorConfiguration {
    // Last in Boot's order, hence applied last: the outermost wrapper.
    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE)
    ContextTaskDecorator contextTaskDecorator() {
      return new ContextTaskDecorator();
    }
  }

  /** The task decorator on Spring Boot 3.5, which applies only a unique or primary one. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingClass(BOOT_4_CLASS)
  @ConditionalOnProperty(
      name = "contextvars4j.task-decorator.enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class UniqueBootTaskDecoratorConfiguration {
    @Bean
    @Primary
    TaskDecorator contextTaskDecorator(ObjectProvider<TaskDecorator> decorators) {
      return new ComposedTaskDecorator(decorators);
    }
  }

  /** A fresh context for each Servlet request. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass(name = "jakarta.servlet.Filter")
  @ConditionalOnProperty(
      name = "contextvars4j.servlet.enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class ServletConfiguration {
    @Bean
    FilterRegistrationBean<ContextServletFilter> contextServletFilter() {
      FilterRegistrationBean<ContextServletFilter> registration =
          new FilterRegistrationBean<>(new ContextServletFilter());
      registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
      registration.setDispatcherTypes(
          DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
      return registration;
    }
  }

  /** A fresh context for each WebFlux exchange. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
  @ConditionalOnClass(name = "org.springframework.web.server.WebFilter")
  @ConditionalOnProperty(
      name = "contextvars4j.webflux.enabled",
      havingValue = "true",
      matchIfMissing = true)
  static class WebFluxConfiguration {
    @Bean
    ContextWebFilter contextWebFilter() {
      return new ContextWebFilter();
    }
  }
}
