from kwshost.cli import main

raise SystemExit(main())
