package org.contextvars4j.agent.internal;

import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.annotation.AnnotationDescription;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.method.ParameterDescription;
import net.bytebuddy.description.method.ParameterList;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Binds an advice parameter annotated {@link Advices.DeclaredType} to the class constant of the
 * erased type that the instrumented method declares for the argument the annotation names: the
 * advice learns, for the cost of a constant, which interface the method takes.
 *
 * <p>Immutable; thread-safe.
 */
final class DeclaredTypeMapping implements Advice.OffsetMapping.Factory<Advices.DeclaredType> {

  @Override
  public Class<Advices.DeclaredType> getAnnotationType() {
    return Advices.DeclaredType.class;
  }

  @Override
  public Advice.OffsetMapping make(
      ParameterDescription.InDefinedShape target,
      AnnotationDescription.Loadable<Advices.DeclaredType> annotation,
      AdviceType adviceType) {
    if (!target.getType().asErasure().represents(Class.class)) {
      throw new IllegalStateException(
          "@DeclaredType annotates a parameter of type Class, not " + target.getType());
    }
    // Read from the description: loading the annotation would make a proxy class at start-up.
    int index = annotation.getValue("value").resolve(Integer.class);
    return (TypeDescription instrumentedType,
        MethodDescription instrumentedMethod,
        Assigner assigner,
        Advice.ArgumentHandler argumentHandler,
        Advice.OffsetMapping.Sort sort) -> {
      ParameterList<?> parameters = instrumentedMethod.getParameters();
      if (index >= parameters.size()) {
        throw new IllegalStateException(
            instrumentedMethod + " has no argument " + index + " for @DeclaredType");
      }
      return Advice.OffsetMapping.Target.ForStackManipulation.of(
          parameters.get(index).getType().asErasure());
    };
  }
}
