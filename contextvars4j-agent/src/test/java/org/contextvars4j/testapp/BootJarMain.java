package org.contextvars4j.testapp;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;

/**
 * The application inside the Spring Boot executable jar that {@code SpringBootJarIT} builds: it
 * reports which class loader its copy of the core came from, and what a pool's task sees.
 */
public final class BootJarMain {
  private BootJarMain() {}

  /**
   * Prints {@code core=...}, {@code app=...} and {@code pool=...} lines.
   *
   * @param args unused
   * @throws Exception if the pool's task fails
   */
  public static void main(String[] args) throws Exception {
    ClassLoader core = Context.class.getClassLoader();
    System.out.println("core=" + (core == null ? "bootstrap" : core.getClass().getName()));
    System.out.println("app=" + BootJarMain.class.getClassLoader().getClass().getName());
    ContextVar<String> request = ContextVar.named("request", "-");
    request.set("main");
    ExecutorService pool = Executors.newFixedThreadPool(1);
    try {
      System.out.println("pool=" + pool.submit(request::get).get(30, TimeUnit.SECONDS));
    } finally {
      pool.shutdown();
    }
  }
}
