import BundleCLI

BundleCommand.runMain()
