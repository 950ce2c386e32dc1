package org.qtale.train.nn;

/** How a {@link TrainingModel} with routers decides which rows execute a routed layer. */
public sealed interface Routing {
    /** Every layer runs for every row; the routers are not evaluated. */
    record Dense() implements Routing {
    }

    /** The engine's rule: execute iff {@code p_exec ≥ θ}, no noise (for evaluation; the routers get no gradient). */
    record Threshold(float theta) implements Routing {
    }

    /**
     * Training: hard Gumbel-Softmax with τ = 1, i.e. execute iff {@code Δ + g ≥ 0} where
     * {@code g = G_exec − G_skip} is logistic noise (the difference of two Gumbel samples), drawn reproducibly from
     * {@code seed}; the backward pass is straight-through, with the gradient of {@code σ(Δ + g)}.
     */
    record Gumbel(long seed) implements Routing {
    }
}
