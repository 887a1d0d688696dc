# Karpenter for .NET. `make run` and `make test` are the two commands a new user needs.
DOTNET ?= dotnet
CONFIG ?= Release
RESULTS ?= TestResults

.PHONY: run test build lint format manifests bench clean

run: ## Run the main job: the simulator on its embedded default scenario.
	$(DOTNET) run -c $(CONFIG) --project Karpenter.Sim -- simulate

test: ## Build and run the whole test suite in Release; TRX results land in $(RESULTS)/.
	rm -rf $(RESULTS)
	$(DOTNET) test Karpenter.sln -c $(CONFIG) --logger "trx" --logger "console;verbosity=normal" --results-directory $(RESULTS)

build:
	$(DOTNET) build Karpenter.sln -c $(CONFIG)

lint: ## Formatting and analyzers, exactly as CI checks them.
	$(DOTNET) format Karpenter.sln --verify-no-changes

format:
	$(DOTNET) format Karpenter.sln

manifests: ## Regenerate config/ (CRDs, RBAC, webhooks) from the types.
	$(DOTNET) run -c $(CONFIG) --project Karpenter.Operator -- manifests --output config

bench: ## All benchmarks; see Karpenter.Benchmarks for the verbs.
	$(DOTNET) run -c $(CONFIG) --project Karpenter.Benchmarks -- all

clean:
	$(DOTNET) clean Karpenter.sln -c $(CONFIG)
	rm -rf $(RESULTS)
