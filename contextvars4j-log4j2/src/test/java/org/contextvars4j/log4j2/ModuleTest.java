package org.contextvars4j.log4j2;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * Black-box check of the module descriptor compiled into the artifact: one exported package, the
 * property source provided as a service from a package that is not exported, and Log4j's API the
 * only library needed at run time besides contextvars4j.
 */
final class ModuleTest {

  private static ModuleDescriptor descriptor() throws Exception {
    Path classes =
        Path.of(
            ContextThreadContextMap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    return ModuleFinder.of(classes).find("org.contextvars4j.log4j2").orElseThrow().descriptor();
  }

  @Test
  void exports_onlyThePublicPackage_withoutQualifiedExportsOrOpens() throws Exception {
    ModuleDescriptor descriptor = descriptor();

    assertThat(descriptor.exports().stream().map(ModuleDescriptor.Exports::source))
        .containsExactly("org.contextvars4j.log4j2");
    assertThat(descriptor.exports()).allSatisfy(e -> assertThat(e.isQualified()).isFalse());
    assertThat(descriptor.opens()).isEmpty();
    assertThat(descriptor.packages())
        .containsExactlyInAnyOrder("org.contextvars4j.log4j2", "org.contextvars4j.log4j2.internal");
  }

  @Test
  void provides_thePropertySource() throws Exception {
    assertThat(descriptor().provides())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.service()).isEqualTo("org.apache.logging.log4j.util.PropertySource");
              assertThat(p.providers())
                  .containsExactly("org.contextvars4j.log4j2.internal.ThreadContextMapPropertySource");
            });
  }

  @Test
  void requires_contextvars4jAndLog4jApi_jspecifyAtCompileTimeOnly() throws Exception {
    Map<String, java.util.Set<ModuleDescriptor.Requires.Modifier>> requires =
        descriptor().requires().stream()
            .filter(r -> !r.name().equals("java.base"))
            .collect(Collectors.toMap(ModuleDescriptor.Requires::name, ModuleDescriptor.Requires::modifiers));

    assertThat(requires)
        .containsOnly(
            Map.entry("org.contextvars4j", java.util.Set.of()),
            Map.entry("org.apache.logging.log4j", java.util.Set.of(ModuleDescriptor.Requires.Modifier.TRANSITIVE)),
            Map.entry("org.jspecify", java.util.Set.of(ModuleDescriptor.Requires.Modifier.STATIC)));
  }
}
