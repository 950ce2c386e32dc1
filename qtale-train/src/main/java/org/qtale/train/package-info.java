/**
 * The training engine: explicit forward and backward passes for every op of a LLaMA training step, optimizers,
 * tokenizer training, built-in corpora and pretraining.
 */
package org.qtale.train;
