import BundleCLI
BundleCommand.main()
